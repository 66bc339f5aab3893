"""Scan maps (SPEC §5): from the registered table, from virtual detectors on the frames, and their images."""

from .detectors import detector_maps, detector_sums
from .settings import MapSettings
from .table import table_maps

__all__ = ["MapSettings", "detector_maps", "detector_sums", "table_maps"]
