"""Quality metrics (method.md §7): reconstruction against data, the round trip, compression, truth
accuracy."""
