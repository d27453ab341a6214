"""rustg.cli."""
