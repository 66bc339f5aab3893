"""Scan maps: from the registered table (`table`), from virtual detectors on the frames
(`detectors`), and their TIFF and PNG images (`dataset`)."""
