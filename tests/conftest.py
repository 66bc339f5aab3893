"""Shared fixtures: the real microscope files in ../shared (skipped cleanly when absent)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"


@pytest.fixture
def real():
    """Folder of real test files; skips the test when ../shared is not there."""
    if not REAL.is_dir():
        pytest.skip(f"real test data not found at {REAL}")
    return REAL
