"""Crystal phases and their kinematic diffraction: phases from CIF files (`phase`), reciprocal
lattice points with structure factors (`reflections`), excitation errors, relrod shape factors and
precession (`excitation`), and spot templates at any orientation (`templates`)."""
