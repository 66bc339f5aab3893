"""The config schema: defaults filled at every depth, errors named by path, in step with the
package."""

import copy

import pytest
import yaml
from conftest import REPO

from acomflow.acom.settings import MatchSettings
from acomflow.config import load_schema, validate_config
from acomflow.crystal.settings import TemplateSettings
from acomflow.maps.settings import MapSettings
from acomflow.prepare.settings import AveragingSettings, CentringSettings
from acomflow.reconstruct.settings import MaskingSettings, ReconstructionSettings
from acomflow.register.settings import RegistrationSettings
from acomflow.simulate.settings import SyntheticSettings

SCHEMA = REPO / "config/schema/config.schema.yaml"


def test_default_config_is_valid_and_filled():
    config = validate_config(yaml.safe_load((REPO / "config/config.yaml").read_text()), SCHEMA)
    demo = config["datasets"]["demo"]
    assert (
        demo["format"] == "auto"
        and demo["stream"] is False
        and demo["calibration"]["scan_step_nm"] is None
    )
    assert demo["synthetic"]["supersample"] == 8 and config["convert"]["block_frames"] is None
    SyntheticSettings.from_config(
        {**demo["synthetic"], "scan_shape": demo["scan_shape"], "stream": demo["stream"]}
    )


# Every section of the schema that configures a stage, with its dataclass, the schema keys the
# workflow reads itself and the dataclass fields the workflow fills from elsewhere.
SECTIONS = [
    (("properties", "registration"), RegistrationSettings, set(), set()),
    (("properties", "centring"), CentringSettings, set(), set()),
    (("properties", "neighbour_averaging"), AveragingSettings, set(), set()),
    (("properties", "reconstruction"), ReconstructionSettings, {"enabled"}, set()),
    (("properties", "masking"), MaskingSettings, {"enabled"}, set()),
    (("properties", "maps"), MapSettings, set(), set()),
    (
        ("definitions", "synthetic"),
        SyntheticSettings,
        set(),
        {"scan_shape", "stream", "precession_deg"},
    ),
    (("properties", "templates"), TemplateSettings, set(), set()),
    (("properties", "matching"), MatchSettings, set(), set()),
]
WORKFLOW_SWITCHES = {"datasets", "convert", "exports", "phases", "comparison"}  # rules alone


def schema_section(path):
    section = load_schema(SCHEMA)
    for key in path:
        section = section[key]
    return section["properties"]


@pytest.mark.parametrize(
    "path,settings,workflow_keys,filled_keys", SECTIONS, ids=lambda v: getattr(v, "__name__", None)
)
def test_schema_section_is_its_dataclass(path, settings, workflow_keys, filled_keys):
    """Same keys, same defaults, same allowed values."""
    schema = schema_section(path)
    defaults = {k: v for k, v in settings().as_dict().items() if k not in filled_keys}
    assert {k: v["default"] for k, v in schema.items() if k not in workflow_keys} == defaults
    enums = {
        k: tuple(v.get("enum") or v.get("items", {}).get("enum"))
        for k, v in schema.items()
        if k not in workflow_keys and (v.get("enum") or v.get("items", {}).get("enum"))
    }
    assert enums == settings.CHOICES
    for name in enums:
        with pytest.raises(ValueError, match=f"{settings.SECTION} {name} 'bogus' is not one of"):
            settings.from_config({name: ["bogus"] if isinstance(defaults[name], list) else "bogus"})


def test_every_stage_section_has_its_dataclass():
    covered = {path[1] for path, *_ in SECTIONS if path[0] == "properties"}
    assert set(load_schema(SCHEMA)["properties"]) == covered | WORKFLOW_SWITCHES


def test_unknown_settings_are_an_error():
    with pytest.raises(ValueError, match=r"unknown registration settings: \['blur'\]"):
        RegistrationSettings.from_config({"blur": 2.0})


def test_defaults_are_not_shared_between_datasets():
    config = validate_config(
        {"datasets": {"a": {"source": "x.npy"}, "b": {"source": "y.npy"}}}, SCHEMA
    )
    config["datasets"]["a"]["calibration"]["scan_step_nm"] = 5.0
    assert config["datasets"]["b"]["calibration"]["scan_step_nm"] is None


@pytest.mark.parametrize(
    "change,message",
    [
        (
            lambda c: c["datasets"]["demo"].pop("scan_shape"),
            "datasets/demo: 'scan_shape' is a required property",
        ),
        (
            lambda c: c["datasets"]["demo"].update(scan_shape=[0, 4]),
            "datasets/demo/scan_shape/0: 0 is less than the minimum",
        ),
        (
            lambda c: c["datasets"]["demo"]["synthetic"].update(dtype="int8"),
            "datasets/demo/synthetic/dtype: 'int8' is not one of",
        ),
        (
            lambda c: c["datasets"]["demo"].update(formt="blo"),
            "datasets/demo: Additional properties are not allowed",
        ),
        (lambda c: c.update(datasets={}), "datasets: {} should be non-empty"),
        (
            lambda c: c["datasets"].update({"bad name": {"source": "a.blo"}}),
            "'bad name' does not match",
        ),
        (
            lambda c: c["datasets"].update({"flow": {"source": "a.npy", "stream": True}}),
            "datasets/flow: 'scan_shape' is a required property",
        ),
        (
            lambda c: c["datasets"]["demo"].update(calibration={"distortion_ratio": 0.95}),
            "datasets/demo/calibration/distortion_ratio: 0.95 is less than the minimum of 1",
        ),
        (
            lambda c: c.update(matching={"distortion": "fitted"}),
            "matching/distortion: 'fitted' is not one of",
        ),
    ],
)
def test_errors_name_the_key(change, message):
    config = copy.deepcopy(yaml.safe_load((REPO / "config/config.yaml").read_text()))
    change(config)
    with pytest.raises(ValueError, match="invalid configuration") as error:
        validate_config(config, SCHEMA)
    assert message in str(error.value)
