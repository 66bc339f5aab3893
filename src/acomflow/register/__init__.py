"""Registration of diffraction spots: noise, background, adaptive-prominence maxima, sub-pixel
refinement (`frame`), over a whole dataset in shards of scan lines (`dataset`). Submodules are
imported by name, so that a rule's code hash covers only what it runs."""
