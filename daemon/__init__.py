"""rustg.daemon."""
