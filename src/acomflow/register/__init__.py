"""Registration of diffraction spots: background, adaptive prominence, sub-pixel refinement."""

from .frame import RegistrationSettings, register_frame

__all__ = ["RegistrationSettings", "register_frame"]
