"""The names of the scan maps (one TIFF and one PNG each), apart from the code that draws them,
so that the workflow can list its outputs without importing it."""

TABLE_MAPS = (  # from the registered table alone (`maps.table`)
    "spot_count",
    "vbf",
    "full_vbf",
    "vdf",
    "noise_sigma",
    "prominence_min",
    "crystalline",
)
DETECTOR_MAPS = ("bf", "adf", "amorphous")  # from the frames (`maps.detectors`)
MAP_NAMES = TABLE_MAPS + DETECTOR_MAPS
