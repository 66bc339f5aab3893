"""The names of the relrod shape models (`crystal.excitation`), for the settings that choose one
without loading the compiled models."""

SHAPE_MODELS = ("lorentzian", "gaussian", "linear")
