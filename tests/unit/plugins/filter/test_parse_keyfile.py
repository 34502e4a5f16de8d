import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.hauser.multi_hauser.plugins.filter.parse_keyfile import FilterModule

KEY = "na1.Zx9Qw8Er7Ty6"

parse_keyfile = FilterModule().filters()["parse_keyfile"]


def test_filter_is_registered():
    assert set(FilterModule().filters()) == {"parse_keyfile"}


def test_parses_a_key_file():
    assert parse_keyfile(u"\ufeff# keys\r\no-1 , %s\r\n" % KEY) == [{"org_id": "o-1", "api_key": KEY, "line": 2}]


def test_accepts_text_as_ansible_loads_it():
    # Ansible hands filters str subclasses that carry where the text came from.
    text = from_yaml('text: "o-1,%s"' % KEY, file_name="/inventory/group_vars/all.yml")["text"]
    assert parse_keyfile(text) == [{"org_id": "o-1", "api_key": KEY, "line": 1}]


def test_accepts_vault_encrypted_text(monkeypatch):
    vault = pytest.importorskip("ansible.parsing.vault")
    if not hasattr(vault, "EncryptedString"):
        pytest.skip("ansible-core before 2.19")
    secret = vault.VaultSecret(b"test password")
    ciphertext = vault.VaultLib([("default", secret)]).encrypt("o-1,%s\n" % KEY).decode()
    # The secrets a playbook run would have loaded; initialize() may be called only once per process.
    monkeypatch.setattr(vault.VaultSecretsContext, "_current", vault.VaultSecretsContext([("default", secret)]))
    encrypted = vault.EncryptedString(ciphertext=ciphertext)
    assert parse_keyfile(encrypted) == [{"org_id": "o-1", "api_key": KEY, "line": 1}]


@pytest.mark.parametrize("text, kwargs, message", [
    ("o-1,%s,x" % KEY, {}, 'key file line 1: expected 2 fields "org_id,api_key", found 3'),
    ("o-1,%s,x" % KEY, {"source": "keys.csv"}, 'keys.csv line 1: expected 2 fields "org_id,api_key", found 3'),
    ("%s,o-1" % KEY, {"source": "keys.csv"},
     "keys.csv line 1: org id has a character outside [A-Za-z0-9_-] (character 4)"),
    ("o-1,%s\no-1,%s" % (KEY, KEY), {"source": "keys.csv"}, "keys.csv lines 1 and 2: duplicate org id"),
    ("o-1,'%s'\no/2,%s" % (KEY, KEY), {"source": "keys.csv"},
     "keys.csv line 1: api key has a quote (character 1)\n"
     "keys.csv line 2: org id has a character outside [A-Za-z0-9_-] (character 2)"),
    ("# nothing\n", {"source": "keys.csv"}, "keys.csv: no orgs found (only blank and comment lines)"),
    (b"o-1,\xff%s" % KEY.encode(), {"source": "keys.csv"}, "keys.csv line 1: not valid UTF-8"),
    (None, {"source": "keys.csv"}, "keys.csv: expected the text of a key file, got NoneType"),
])
def test_errors_become_filter_errors(text, kwargs, message):
    with pytest.raises(AnsibleFilterError) as caught:
        parse_keyfile(text, **kwargs)
    error = caught.value
    assert error.message == message
    assert KEY[:8] not in str(error) and KEY[-8:] not in str(error)
    # Nothing else that Ansible could print, even at -vvv, carries the input.
    assert error.orig_exc is None
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_filter_validates_a_list_of_orgs_like_a_key_file():
    orgs = parse_keyfile([{"org_id": "o-1", "api_key": "KEYone0001"}, {"org_id": "o-2", "api_key": "KEYtwo0002"}])
    assert orgs == [
        {"org_id": "o-1", "api_key": "KEYone0001", "line": 1},
        {"org_id": "o-2", "api_key": "KEYtwo0002", "line": 2},
    ]


def test_filter_names_the_variable_and_item_of_a_bad_list_without_the_key():
    with pytest.raises(AnsibleFilterError) as caught:
        parse_keyfile([{"org_id": "o-1", "api_key": "KEY one"}], source="my_orgs")
    assert "my_orgs[0]" in str(caught.value)
    assert "KEY" not in str(caught.value)
