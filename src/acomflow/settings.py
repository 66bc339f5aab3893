"""A base for the frozen dataclasses that mirror a config section (lists there, tuples here, at
every depth).

Each stage's settings live in its own `settings.py`; their defaults and allowed values are the
schema's (config/schema/config.schema.yaml), which tests/test_config.py holds them to.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar


class ConfigSection:
    """`from_config` and `as_dict` for a frozen dataclass whose fields are a config section's keys.

    `SECTION` names the section in error messages; `CHOICES` gives the allowed values of the
    fields that take one of a few (for a tuple field, of each of its items).
    """

    SECTION: ClassVar[str] = ""
    CHOICES: ClassVar[dict[str, tuple]] = {}

    def __post_init__(self):
        for name, allowed in self.CHOICES.items():
            value = getattr(self, name)
            for item in value if isinstance(value, tuple) else (value,):
                if item not in allowed:
                    raise ValueError(f"{self.SECTION} {name} {item!r} is not one of {allowed}")

    @classmethod
    def from_config(cls, config: dict):
        """The settings of a config mapping; lists become tuples, an unknown key is an error."""
        unknown = set(config) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown {cls.SECTION} settings: {sorted(unknown)}")
        return cls(**{k: _tuples(v) for k, v in config.items()})

    def as_dict(self) -> dict:
        return {k: _lists(v) for k, v in dataclasses.asdict(self).items()}


def _tuples(value):
    """Lists as tuples, at every depth."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _lists(value):
    """Tuples as lists, at every depth."""
    return [_lists(v) for v in value] if isinstance(value, tuple) else value
