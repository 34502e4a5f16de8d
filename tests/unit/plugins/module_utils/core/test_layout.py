"""layout: where an org's files are on a host (the README's table), what its program is called, and
which program files and names are an org's."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import Layout, host_layout
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.render import program_environment

ORG_IDS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=64)
LAYOUT = Layout("/var/lib/multi-hauser", "/etc/supervisor/conf.d", "/var/log/multi-hauser", "/srv/fullstory")


def test_an_orgs_paths_are_those_of_the_readme():
    org_id = "o-1A2B3C-na1"
    assert LAYOUT.org_dir(org_id) == "/var/lib/multi-hauser/o-1A2B3C-na1"
    assert LAYOUT.config_path(org_id) == "/var/lib/multi-hauser/o-1A2B3C-na1/config.toml"
    assert LAYOUT.tmp_dir(org_id) == "/var/lib/multi-hauser/o-1A2B3C-na1/tmp"
    assert LAYOUT.program_path(org_id) == "/etc/supervisor/conf.d/hauser-o-1A2B3C-na1.conf"
    assert LAYOUT.program_name(org_id) == "hauser-o-1A2B3C-na1"
    assert LAYOUT.log_path(org_id) == "/var/log/multi-hauser/o-1A2B3C-na1.log"
    assert LAYOUT.save_dir(org_id) == "/srv/fullstory/o-1A2B3C-na1"


def test_a_trailing_slash_of_a_directory_setting_makes_no_other_path():
    layout = Layout("/var/lib/multi-hauser/", "/etc/supervisor/conf.d/", "/var/log/multi-hauser/", "/srv/fullstory/")
    for method in ("org_dir", "config_path", "tmp_dir", "program_path", "log_path", "save_dir"):
        assert getattr(layout, method)("o-1") == getattr(LAYOUT, method)("o-1")


@pytest.mark.parametrize("provider, dirs", [
    ("gcp", ["/var/lib/multi-hauser/o-1/tmp"]),
    ("aws", ["/var/lib/multi-hauser/o-1/tmp"]),
    ("local", ["/var/lib/multi-hauser/o-1/tmp", "/srv/fullstory/o-1"]),
])
def test_the_directories_an_org_needs(provider, dirs):
    assert LAYOUT.org_dirs("o-1", provider) == dirs


@given(ORG_IDS)
def test_the_org_of_its_program_and_program_file_is_the_org(org_id):
    assert Layout.org_of_program(Layout.program_name(org_id)) == org_id
    assert Layout.org_of_program_file(Layout.program_file_name(org_id)) == org_id
    assert LAYOUT.program_path(org_id) == "/etc/supervisor/conf.d/" + Layout.program_file_name(org_id)


@pytest.mark.parametrize("file_name", ["supervisord.conf", "other.conf", "hauser-.conf", "hauser-o-1.conf.dpkg-old",
                                       "hauser-o-1", ".hauser-o-1.conf", "Hauser-o-1.conf", "orgs.group.conf"])
def test_files_of_the_program_directory_that_are_no_orgs(file_name):
    assert Layout.org_of_program_file(file_name) is None


@pytest.mark.parametrize("name", ["other", "orgs:hauser-o-1", "hauserx", "Hauser-o-1"])
def test_programs_that_are_no_orgs(name):
    assert Layout.org_of_program(name) is None


def _settings(**overrides):
    settings = {"install_dir": "/opt/multi-hauser", "version": "1.5.1", "gcp_credentials_file": ""}
    settings.update(overrides)
    return settings


def test_each_version_is_installed_beside_the_others():
    old, new = host_layout(_settings(version="1.5.0")), host_layout(_settings())
    assert new["binary"] == "/opt/multi-hauser/1.5.1/hauser" and new["version_dir"] == "/opt/multi-hauser/1.5.1"
    assert old["binary"] == "/opt/multi-hauser/1.5.0/hauser"
    assert host_layout(_settings(install_dir="/srv/h"))["binary"] == "/srv/h/1.5.1/hauser"


def test_the_credentials_are_installed_and_given_to_hauser_only_when_a_file_is_given():
    without = host_layout(_settings())
    assert without["credentials"] == ""
    with_file = host_layout(_settings(gcp_credentials_file="/home/me/hauser-sa.json"))
    assert with_file["credentials"].startswith(with_file["etc_dir"] + "/")
    assert with_file["credentials"] != "/home/me/hauser-sa.json"  # the host's copy, not the controller's path
    base = {"base_dir": "/var/lib/multi-hauser", "user": "hauser"}
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in program_environment(dict(base, credentials_path=without["credentials"]))
    assert program_environment(dict(base, credentials_path=with_file["credentials"]))[
        "GOOGLE_APPLICATION_CREDENTIALS"] == with_file["credentials"]


def test_the_containers_supervisord_config_is_not_the_distributions():
    paths = host_layout(_settings())
    assert paths["container_supervisord_conf"] != paths["supervisor_conf"]
    assert paths["container_supervisord_conf"].startswith(paths["etc_dir"] + "/")
    assert paths["program_dir"] == "/etc/supervisor/conf.d"
