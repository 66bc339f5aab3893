"""Quality metrics (SPEC §6): reconstruction against data, the round trip, compression, truth accuracy."""
