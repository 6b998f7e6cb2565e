"""A side wing: the demo data generator that fills the landing volumes. Stands on ``zenith.lakehouse`` only."""
