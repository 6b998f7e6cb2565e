"""The pipeline's health: the rows a status is made of (``read.py``) and its text (``status.py``)."""
