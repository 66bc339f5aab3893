"""Synthetic SPED datasets with exact ground truth: the embedded default and the test bed."""

from .dataset import simulate, stream_layout
from .pattern import render_pattern
from .sample import build_sample
from .settings import SyntheticSettings

__all__ = ["SyntheticSettings", "build_sample", "render_pattern", "simulate", "stream_layout"]
