"""The role's interface stays consistent: every default is declared in meta/argument_specs.yml with the
same value, every variable carries the role's prefix, and the README documents each one."""

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "multi_hauser"


def _load(path):
    return yaml.safe_load(path.read_text())


DEFAULTS = _load(ROLE / "defaults" / "main.yml")
MAIN_SPEC = _load(ROLE / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
README = (ROOT / "README.md").read_text()


def test_every_default_is_declared_with_the_same_value():
    declared = {name: option.get("default") for name, option in MAIN_SPEC.items()}
    assert declared == DEFAULTS


@pytest.mark.parametrize("name", sorted(MAIN_SPEC))
def test_every_variable_has_the_role_prefix_and_a_description(name):
    assert name.startswith("multi_hauser_")
    assert MAIN_SPEC[name].get("description")


@pytest.mark.parametrize("name", sorted(MAIN_SPEC))
def test_the_readme_documents_every_variable(name):
    assert "`%s`" % name in README


def test_internal_variables_are_marked_as_such():
    internal = _load(ROLE / "vars" / "main.yml")
    assert all(name.startswith("_multi_hauser_") for name in internal)


# The settings the code reads (module_utils/core/settings.py) are the role's variables, of the same kinds.
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core import settings as core_settings  # noqa: E402

SPECS = _load(ROLE / "meta" / "argument_specs.yml")["argument_specs"]
_TYPES = {
    core_settings.Boolean: "bool", core_settings.Integer: "int", core_settings.Number: "float",
    core_settings.Text: "str", core_settings.Choice: "str", core_settings.Duration: "str", core_settings.Path: "str",
    core_settings.Dictionary: "dict", core_settings.HauserKeys: "dict", core_settings.Environment: "dict",
    core_settings.TextList: "list",
}


def test_every_variable_is_a_setting_and_every_setting_a_variable():
    assert set(MAIN_SPEC) == set("multi_hauser_" + name for name in core_settings.SETTINGS) | {
        "multi_hauser_keyfile", "multi_hauser_orgs"}


@pytest.mark.parametrize("name", sorted(core_settings.SETTINGS))
def test_each_setting_has_the_kind_its_variable_declares(name):
    kind = core_settings.SETTINGS[name]
    option = MAIN_SPEC["multi_hauser_" + name]
    assert option["type"] == _TYPES[type(kind)]
    if isinstance(kind, core_settings.Choice):
        assert tuple(option["choices"]) == kind.choices


@pytest.mark.parametrize("entry", ["image", "plan", "status", "remove"])
def test_the_other_entry_points_document_their_variables_as_main_does(entry):
    options = SPECS[entry]["options"]
    assert options and set(options) <= set(MAIN_SPEC)
    for name, option in options.items():
        if entry != "status":
            assert option == MAIN_SPEC[name]


def test_the_image_takes_at_run_time_only_settings_it_documents():
    assert set("multi_hauser_" + name for name in core_settings.IMAGE_SETTINGS) - set(SPECS["image"]["options"]) \
        <= {"multi_hauser_redshift_password", "multi_hauser_redshift_credentials"}
