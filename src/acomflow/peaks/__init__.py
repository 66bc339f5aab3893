"""Diffraction discs in a frame: sub-pixel refinement and measurement (`refine`), and the rule
that tells the direct beam among them (`beam`). Used by centring, registration and masking."""
