"""Data preparation before registration (SPEC §1.2-1.4): realignment of unsynchronised streams."""

from .stream import blank_frames, cut_lines, line_frames
from .realign import realign_stream

__all__ = ["blank_frames", "cut_lines", "line_frames", "realign_stream"]
