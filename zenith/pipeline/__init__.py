"""The medallion: one module per layer (bronze, silver, gold, analytics), their parameters, and the
run that chains them. Stands on ``zenith.lakehouse`` only."""
