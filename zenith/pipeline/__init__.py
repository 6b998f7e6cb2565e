"""The medallion: a folder per layer (bronze, silver, gold), each with its plan in ``layer.py``; the
analytics; the pipeline's health; the parameters; and the run that chains them. Stands on
``zenith.lakehouse`` only, and no layer imports another."""
