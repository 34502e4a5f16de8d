"""supervisor_rpc: where it finds supervisord (server_settings), and talking to a real supervisord
over its unix socket and over HTTP with basic authentication."""

import os
import socket

import pytest

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.supervisor import (
    DEFAULT_SERVER_URL, FAULT_ALREADY_ADDED, FAULT_NOT_RUNNING, Supervisor, SupervisorError, namespec,
    server_settings)


def _config(tmp_path, text, name="supervisord.conf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --- server_settings ----------------------------------------------------------------------------


def test_settings_of_a_unix_socket(tmp_path):
    path = _config(tmp_path, "[supervisord]\nlogfile = /x.log\n\n[supervisorctl]\nserverurl = unix:///run/supervisor.sock\n")
    assert server_settings(path) == ("unix:///run/supervisor.sock", None, None)


def test_settings_of_http_with_credentials(tmp_path):
    path = _config(tmp_path, "[supervisorctl]\nserverurl=http://127.0.0.1:9002\nusername=admin\npassword=s3cret\n")
    assert server_settings(path) == ("http://127.0.0.1:9002", "admin", "s3cret")


def test_here_is_the_directory_of_the_config(tmp_path):
    (tmp_path / "etc").mkdir()
    path = _config(tmp_path, "[supervisorctl]\nserverurl = unix://%(here)s/run/s.sock\n", name="etc/supervisord.conf")
    assert server_settings(path)[0] == "unix://%s/run/s.sock" % (tmp_path / "etc")


def test_env_variables_are_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("MH_TEST_SOCKET_DIR", "/srv/sockets")
    monkeypatch.setenv("MH_TEST_PASSWORD", "from-env")
    path = _config(tmp_path, "[supervisorctl]\nserverurl = unix://%(ENV_MH_TEST_SOCKET_DIR)s/s.sock\n"
                             "username = u\npassword = %(ENV_MH_TEST_PASSWORD)s\n")
    assert server_settings(path) == ("unix:///srv/sockets/s.sock", "u", "from-env")


def test_inline_comments_are_dropped(tmp_path):
    path = _config(tmp_path, "; a comment line\n[supervisorctl]\n"
                             "serverurl = unix:///run/s.sock ; use the socket\nusername = admin ;the admin\n")
    assert server_settings(path) == ("unix:///run/s.sock", "admin", None)


def test_without_supervisorctl_section_the_default_url(tmp_path):
    path = _config(tmp_path, "[unix_http_server]\nfile = /run/s.sock\n[supervisord]\n")
    assert server_settings(path) == (DEFAULT_SERVER_URL, None, None)
    assert DEFAULT_SERVER_URL == "http://localhost:9001"  # supervisorctl's own default


def test_unreadable_config_names_its_path(tmp_path):
    path = str(tmp_path / "missing" / "supervisord.conf")
    with pytest.raises(SupervisorError, match="cannot read") as error:
        server_settings(path)
    assert path in str(error.value)


def test_unparsable_config_names_its_path(tmp_path):
    path = _config(tmp_path, "serverurl = unix:///run/s.sock\n[supervisorctl]\n")  # an option before any section
    with pytest.raises(SupervisorError, match="cannot parse") as error:
        server_settings(path)
    assert path in str(error.value)


def test_namespec_is_group_colon_process():
    assert namespec("hauser-acme") == "hauser-acme:hauser-acme"


# --- a real supervisord over its unix socket ----------------------------------------------------


@pytest.fixture
def supervisord(start_supervisord):
    return start_supervisord({"alpha": {}, "beta": {}, "idle": {"autostart": "false"}})


def test_processes_lists_every_program_with_its_state(supervisord):
    processes = Supervisor(supervisord.config).processes()
    assert sorted(processes) == ["alpha", "beta", "idle"]
    assert processes["alpha"]["statename"] == "RUNNING"
    assert processes["idle"]["statename"] == "STOPPED"
    assert processes["alpha"]["pid"] == supervisord.pids()["alpha"] != 0


def test_multicall_returns_results_and_faults_in_order(supervisord):
    results = Supervisor(supervisord.config).multicall([
        ("stopProcess", ("alpha:alpha", True)),    # runs: stops
        ("stopProcess", ("idle:idle", True)),      # not running: a fault
        ("addProcessGroup", ("beta",)),            # already there: a fault
        ("getState", ()),
        ("system.listMethods", ()),                # another namespace, named in full
    ])
    assert results[0] is True
    assert isinstance(results[1], tuple) and results[1][0] == FAULT_NOT_RUNNING and "NOT_RUNNING" in results[1][1]
    assert isinstance(results[2], tuple) and results[2][0] == FAULT_ALREADY_ADDED
    assert results[3]["statename"] == "RUNNING"
    assert "supervisor.reloadConfig" in results[4]
    # and what succeeded did happen
    states = supervisord.states()
    assert states["alpha"] == "STOPPED" and states["beta"] == "RUNNING"


def test_multicall_of_nothing_sends_nothing(tmp_path):
    # no supervisord at all: an empty multicall must not need one
    path = _config(tmp_path, "[supervisorctl]\nserverurl = unix://%s/none.sock\n" % tmp_path)
    assert Supervisor(path).multicall([]) == []


def test_reload_config_reports_added_changed_removed(supervisord):
    supervisord.add_program("gamma")                                   # new
    supervisord.add_program("beta", command="/bin/sleep 601")          # changed
    os.unlink(os.path.join(supervisord.conf_d, "idle.conf"))           # removed
    [[added, changed, removed]] = Supervisor(supervisord.config).call("reloadConfig")
    assert (added, changed, removed) == (["gamma"], ["beta"], ["idle"])
    # reloadConfig only reports: nothing is applied yet
    assert sorted(supervisord.states()) == ["alpha", "beta", "idle"]


def test_call_raises_a_fault_as_supervisor_error(supervisord):
    with pytest.raises(SupervisorError, match="stopProcess.*NOT_RUNNING"):
        Supervisor(supervisord.config).call("stopProcess", "idle:idle")


def test_wait_returns_the_pending_at_the_timeout(supervisord):
    pending = Supervisor(supervisord.config).wait(
        ["alpha", "beta"], lambda info: info["statename"] == "STOPPED", timeout=0.3)
    assert sorted(pending) == ["alpha", "beta"]
    assert pending["alpha"]["statename"] == "RUNNING"


def test_wait_returns_nothing_once_done(supervisord):
    supervisor = Supervisor(supervisord.config)
    supervisor.multicall([("stopProcess", (namespec(name), False)) for name in ("alpha", "beta")])
    pending = supervisor.wait(["alpha", "beta", "gone"], lambda info: info["statename"] == "STOPPED", timeout=20)
    assert pending == {}
    assert supervisord.states() == {"alpha": "STOPPED", "beta": "STOPPED", "idle": "STOPPED"}


def test_wait_counts_a_process_that_is_gone_as_done(supervisord):
    supervisor = Supervisor(supervisord.config)
    assert supervisor.wait(["no-such-program"], lambda info: False, timeout=0) == {}


def test_a_wrong_socket_path_cannot_reach_supervisord(supervisord, tmp_path):
    path = _config(tmp_path, "[supervisorctl]\nserverurl = unix://%s.missing\n" % supervisord.socket)
    with pytest.raises(SupervisorError, match="cannot reach supervisord at unix://.*missing"):
        Supervisor(path).processes()


def test_an_unsupported_url_is_refused(tmp_path):
    path = _config(tmp_path, "[supervisorctl]\nserverurl = https://example.org:9001\n")
    with pytest.raises(SupervisorError, match="neither unix:// nor http://"):
        Supervisor(path)


# --- a real supervisord that requires a username and password ---------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _auth_supervisord(start_supervisord, server, password):
    """A supervisord requiring admin/right-password on its socket and its port; the config's
    [supervisorctl] names SERVER ("unix" or "http") with PASSWORD."""
    port = _free_port()
    supervisord = start_supervisord(
        {"web": {}}, http_port=port, credentials=("admin", "right-password"),
        supervisorctl="[supervisorctl]\nserverurl = %s\nusername = admin\npassword = %s\n" % (
            "http://127.0.0.1:%d" % port if server == "http" else "unix://{socket}", password))
    return supervisord


@pytest.mark.parametrize("server", [
    "http",
    "unix",
])
def test_the_credentials_of_the_config_are_used(start_supervisord, server):
    supervisord = _auth_supervisord(start_supervisord, server, "right-password")
    supervisor = Supervisor(supervisord.config)
    assert supervisor.processes()["web"]["statename"] == "RUNNING"
    assert supervisor.call("stopProcess", "web:web") is True
    assert supervisord.states()["web"] == "STOPPED"


@pytest.mark.parametrize("server", ["http", "unix"])
def test_a_wrong_password_is_refused(start_supervisord, server):
    supervisord = _auth_supervisord(start_supervisord, server, "wrong-password")
    with pytest.raises(SupervisorError, match="refused the username and password"):
        Supervisor(supervisord.config).call("stopProcess", "web:web")
    assert supervisord.states()["web"] == "RUNNING"


def test_an_http_error_does_not_show_the_password(start_supervisord):
    supervisord = _auth_supervisord(start_supervisord, "http", "wrong-password")
    with pytest.raises(SupervisorError) as error:
        Supervisor(supervisord.config).processes()
    assert "wrong-password" not in str(error.value)
    assert "refused the username and password" in str(error.value)
    assert supervisord.config in str(error.value)


# --- a user and password in the server URL --------------------------------------------------------


@pytest.mark.parametrize("url, shown", [
    ("http://admin:Sekr1t-pw@127.0.0.1:9", "http://127.0.0.1:9"),  # nothing listens on the discard port
    ("http://Sekr1t-user@127.0.0.1:9/", "http://127.0.0.1:9/"),
])
def test_a_user_and_password_in_the_server_url_never_show_when_supervisord_cannot_be_reached(tmp_path, url, shown):
    path = _config(tmp_path, "[supervisorctl]\nserverurl = %s\n" % url)
    with pytest.raises(SupervisorError) as caught:
        Supervisor(path).processes()
    assert "Sekr1t" not in str(caught.value)
    assert str(caught.value).startswith("cannot reach supervisord at %s (is it running?)" % shown)


def test_a_user_and_password_in_an_unsupported_url_never_show(tmp_path):
    path = _config(tmp_path, "[supervisorctl]\nserverurl = https://admin:Sekr1t-pw@example.org:9001\n")
    with pytest.raises(SupervisorError) as caught:
        Supervisor(path)
    assert str(caught.value) == "supervisord's serverurl https://example.org:9001 in %s is neither unix:// nor http://" % path


def test_a_user_and_password_in_the_url_of_a_supervisord_that_refuses_them_never_show(start_supervisord):
    port = _free_port()
    supervisord = start_supervisord(
        {"web": {}}, http_port=port, credentials=("admin", "right-password"),
        supervisorctl="[supervisorctl]\nserverurl = http://admin:Sekr1t-pw@127.0.0.1:%d\n" % port)
    with pytest.raises(SupervisorError) as caught:
        Supervisor(supervisord.config).processes()
    assert str(caught.value) == ("supervisord at http://127.0.0.1:%d refused the username and password of the "
                                 "[supervisorctl] section of %s" % (port, supervisord.config))


def test_a_password_holding_an_at_sign_never_shows(tmp_path):
    path = _config(tmp_path, "[supervisorctl]\nserverurl = http://admin:pa@Sekr1t-pw@127.0.0.1:9\n")
    with pytest.raises(SupervisorError) as caught:
        Supervisor(path).processes()
    assert "Sekr1t" not in str(caught.value)
