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
