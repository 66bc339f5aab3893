"""Reconstruction of clean patterns from the registered table, and masking of frames (method.md
§5)."""
