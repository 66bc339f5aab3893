"""Validation of a workflow configuration against its JSON schema, filling in the defaults."""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml


def _with_defaults(validator_class):
    """A validator class that, before checking an object's properties, sets the missing ones that
    declare a default (deep-copied), at every depth. A `$ref` property takes its default from a
    `default` key beside the `$ref`."""
    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in props.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, props, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties})


def load_schema(path) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def validate_config(config: dict, schema_path) -> dict:
    """Fill defaults into `config` in place and validate it; raise ValueError naming every
    problem."""
    schema = load_schema(schema_path)
    cls = _with_defaults(jsonschema.validators.validator_for(schema))
    validator = cls(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  {'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors
        ]
        raise ValueError(f"invalid configuration ({schema_path}):\n" + "\n".join(lines))
    return config
