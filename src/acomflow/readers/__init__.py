"""Readers: any supported microscope file opened as a lazily read frame source (`formats`,
`source`), image sequences and frame trees (`sequences`)."""
