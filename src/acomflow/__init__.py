"""acomflow: reproducible 4D-STEM / scanning precession electron diffraction pipeline.

Arrays follow one convention throughout (see method.md §1): a 4D dataset is indexed
(scan_y, scan_x, ky, kx); pixel centres sit at integer coordinates, so pixel (r, c)
covers [r - 0.5, r + 0.5) and the geometric centre of a K x K frame is ((K-1)/2, (K-1)/2).
"""

__version__ = "0.1.0"
