"""plain(): Ansible's values, tagged by ansible-core 2.19's YAML loader or marked unsafe, as plain
Python values for module_utils/core, which must see nothing of Ansible."""

import datetime

from ansible.parsing.utils.yaml import from_yaml
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain

YAML = """
keyfile: keys.csv
orgs:
  - {org_id: o-1A2B3C-na1, api_key: na1.abc}
weight: 2.5
steps: 8
storage_only: false
start: 2026-01-01T00:00:00Z
day: 2026-01-02
nothing: null
"""


def _exact(value):
    """Every value and key all the way down is of a builtin type exactly (no subclass)."""
    if isinstance(value, dict):
        return value.__class__ is dict and all(key.__class__ is str and _exact(item) for key, item in value.items())
    if isinstance(value, list):
        return value.__class__ is list and all(_exact(item) for item in value)
    return value is None or type(value) in (str, int, float, bool, datetime.datetime, datetime.date)


def test_values_read_from_yaml_become_builtin_values_equal_to_them():
    loaded = from_yaml(YAML, file_name="/inventory/group_vars/all.yml")
    converted = plain(loaded)
    assert _exact(converted)
    assert converted == {"keyfile": "keys.csv", "orgs": [{"org_id": "o-1A2B3C-na1", "api_key": "na1.abc"}],
                         "weight": 2.5, "steps": 8, "storage_only": False,
                         "start": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
                         "day": datetime.date(2026, 1, 2), "nothing": None}


def test_unsafe_values_become_builtin_values():
    converted = plain(wrap_var({"a": ["x", {"b": "y"}], "c": "z"}))
    assert _exact(converted) and converted == {"a": ["x", {"b": "y"}], "c": "z"}


def test_tuples_and_sets_become_lists():
    assert plain(("a", "b")) == ["a", "b"] and plain({"only"}) == ["only"]
