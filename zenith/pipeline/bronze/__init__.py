"""Bronze: the landed files in Delta tables, unchanged; ``layer.py`` is the plan."""
