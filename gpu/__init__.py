"""rustg.gpu."""
