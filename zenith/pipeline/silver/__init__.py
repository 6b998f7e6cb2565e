"""Silver: the trusted, deduplicated, enriched events; ``layer.py`` is the plan."""
