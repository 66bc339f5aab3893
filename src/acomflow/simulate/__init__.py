"""Synthetic SPED datasets with exact ground truth, the embedded default and the test bed: the
sample (`sample`), its patterns (`pattern`, `render`) and the written dataset (`dataset`)."""
