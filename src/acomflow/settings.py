"""A base for the frozen dataclasses that mirror a config section (lists there, tuples here)."""

from __future__ import annotations

import dataclasses


class ConfigSection:
    """`from_config` and `as_dict` for a frozen dataclass whose fields are a config section's keys."""

    @classmethod
    def from_config(cls, config: dict):
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
