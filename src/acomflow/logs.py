"""Logging for long jobs: one logger, a log file per Snakemake job, rate-limited progress lines."""

from __future__ import annotations

import contextlib
import logging
import sys
import time

logger = logging.getLogger("acomflow")


@contextlib.contextmanager
def log_to(path=None, level=logging.INFO):
    """Send acomflow's log records to stderr and, if given, to the file `path`, for the block."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if path:
        handlers.append(logging.FileHandler(path, mode="w", encoding="utf-8"))
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(level)
    try:
        yield logger
    except Exception:
        logger.exception("failed")
        raise
    finally:
        logger.setLevel(previous)
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()


class Progress:
    """Logs `done/total`, rate and remaining time at most every `every` seconds, and at the end."""

    def __init__(self, label: str, total: int, unit: str = "frames", every: float = 5.0):
        self.label, self.total, self.unit, self.every = label, total, unit, every
        self.start = self.last = time.perf_counter()
        self.done = 0

    def update(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            elapsed = max(now - self.start, 1e-9)
            rate = self.done / elapsed
            remaining = (self.total - self.done) / rate if rate > 0 else float("inf")
            logger.info(
                "%s: %d/%d %s (%.0f %s/s, %.0f s elapsed, %.0f s left)",
                self.label,
                self.done,
                self.total,
                self.unit,
                rate,
                self.unit,
                elapsed,
                remaining,
            )
