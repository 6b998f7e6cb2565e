"""Gold: the daily product performance and the customer summary; ``layer.py`` is the plan."""
