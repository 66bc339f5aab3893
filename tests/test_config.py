"""The config schema: defaults filled at every depth, errors named by path, in step with the package."""

import copy

import pytest
import yaml

from acomflow.config import load_schema, validate_config
from acomflow.simulate import SyntheticSettings

from conftest import REPO

SCHEMA = REPO / "config/schema/config.schema.yaml"


def test_default_config_is_valid_and_filled():
    config = validate_config(yaml.safe_load((REPO / "config/config.yaml").read_text()), SCHEMA)
    demo = config["datasets"]["demo"]
    assert demo["format"] == "auto" and demo["stream"] is False and demo["calibration"]["scan_step_nm"] is None
    assert demo["synthetic"]["supersample"] == 8 and config["convert"]["block_frames"] is None
    SyntheticSettings.from_config({**demo["synthetic"], "scan_shape": demo["scan_shape"], "stream": demo["stream"]})


def test_schema_defaults_are_the_generators_defaults():
    schema_defaults = {k: v["default"] for k, v in load_schema(SCHEMA)["definitions"]["synthetic"]["properties"].items()}
    package_defaults = SyntheticSettings().as_dict()
    assert schema_defaults == {k: v for k, v in package_defaults.items() if k not in ("scan_shape", "stream")}


def test_schema_defaults_are_the_registration_defaults():
    from acomflow.register import RegistrationSettings

    schema_defaults = {k: v["default"] for k, v in load_schema(SCHEMA)["properties"]["registration"]["properties"].items()}
    assert schema_defaults == RegistrationSettings().as_dict()


def test_defaults_are_not_shared_between_datasets():
    config = validate_config({"datasets": {"a": {"source": "x.npy"}, "b": {"source": "y.npy"}}}, SCHEMA)
    config["datasets"]["a"]["calibration"]["scan_step_nm"] = 5.0
    assert config["datasets"]["b"]["calibration"]["scan_step_nm"] is None


@pytest.mark.parametrize("change,message", [
    (lambda c: c["datasets"]["demo"].pop("scan_shape"), "datasets/demo: 'scan_shape' is a required property"),
    (lambda c: c["datasets"]["demo"].update(scan_shape=[0, 4]), "datasets/demo/scan_shape/0: 0 is less than the minimum"),
    (lambda c: c["datasets"]["demo"]["synthetic"].update(dtype="int8"), "datasets/demo/synthetic/dtype: 'int8' is not one of"),
    (lambda c: c["datasets"]["demo"].update(formt="blo"), "datasets/demo: Additional properties are not allowed"),
    (lambda c: c.update(datasets={}), "datasets: {} should be non-empty"),
    (lambda c: c["datasets"].update({"bad name": {"source": "a.blo"}}), "'bad name' does not match"),
    (lambda c: c["datasets"].update({"flow": {"source": "a.npy", "stream": True}}), "datasets/flow: 'scan_shape' is a required property"),
])
def test_errors_name_the_key(change, message):
    config = copy.deepcopy(yaml.safe_load((REPO / "config/config.yaml").read_text()))
    change(config)
    with pytest.raises(ValueError, match="invalid configuration") as error:
        validate_config(config, SCHEMA)
    assert message in str(error.value)
