"""The harness's test VMs (tests/harness/vm.py) beside other work on the same machine: a port that
another service holds is never chosen; a port lost between the choice and sshd's start (to a
listener that greets like OpenSSH, or to another VM's sshd that even accepts the same key) is
detected and left for a new one; runs side by side get distinct names and ports and remove only
their own VMs; only aborted runs' VMs are reaped; a restarted VM whose port was taken meanwhile
is refused, not reached.

Run by tests/harness/test.sh (stage harness), which exports MH_VM_IMAGE_DEBIAN12.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import vm

TOOL = str(Path(__file__).resolve().parent / "vm.py")
RUN_ID = "harness-test-" + secrets.token_hex(4)


@pytest.fixture(scope="module")
def image():
    name = os.environ.get("MH_VM_IMAGE_DEBIAN12", "")
    if not name:
        pytest.fail("MH_VM_IMAGE_DEBIAN12 is not set: run these tests through tests/harness/test.sh harness",
                    pytrace=False)
    return name


@pytest.fixture(scope="module", autouse=True)
def _remove_test_vms():
    yield
    subprocess.run([sys.executable, TOOL, "stop", "--run-id", RUN_ID], stdout=subprocess.DEVNULL, check=False)


class Decoy:
    """A listener on 127.0.0.1 that is not sshd but greets like OpenSSH, then hangs up."""

    def __init__(self, port=0):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client = self.server.accept()[0]
            except OSError:
                return
            self.connections += 1
            try:
                client.sendall(b"SSH-2.0-OpenSSH_9.2p1 decoy, not sshd\r\n")
            finally:
                client.close()

    def close(self):
        self.server.close()


@pytest.fixture
def decoy():
    listener = Decoy()
    yield listener
    listener.close()


def env(**extra):
    values = dict(os.environ, MH_RUN_ID=RUN_ID)
    values.pop("MH_VM_FIRST_PORTS", None)
    values.pop("MH_VM_LOG", None)
    values.update(extra)
    return values


def start(state_dir, vms, *options, environ=None, check=True):
    argv = [sys.executable, TOOL, "start", "--state-dir", str(state_dir), "--key", str(state_dir / "id_ed25519"),
            "--prefix", "mh-harness-test-"] + ["--vm=%s=%s" % pair for pair in vms] + list(options)
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          env=environ or env(), timeout=600, check=False)
    if check:
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["vms"]
    return done


def tool(*args, check=True):
    done = subprocess.run([sys.executable, TOOL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=env(), timeout=300, check=False)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def read_id(record):
    """What an SSH login with the VM's key reads from /etc/mh-vm-id, and the VM's own token."""
    state = json.loads(Path(record["state"]).read_text())
    code, out, said = vm.ssh_read_id(state)
    assert code == 0, said
    return out, state["token"]


def running(name):
    return vm.docker("inspect", "--format", "{{.State.Running}}", name, check=False).stdout.strip() == "true"


def test_a_port_another_service_holds_is_never_chosen(decoy, monkeypatch):
    free = next(port for port in vm.candidate_ports() if vm.bindable(port))
    monkeypatch.setattr(vm, "candidate_ports", lambda: [decoy.port] * 400 + [free] * 100)
    assert vm.PortChooser([]).next() == free
    monkeypatch.undo()
    low, high = (int(value) for value in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert not any(low <= port <= high for port in vm.candidate_ports())


def test_a_port_lost_to_a_listener_that_is_not_sshd(image, decoy, tmp_path):
    (record,) = start(tmp_path, [("lost-to-decoy", image)], "--first-port=%d" % decoy.port)
    assert record["attempts"][0]["port"] == decoy.port
    assert "held by another process" in record["attempts"][0]["result"]
    assert record["attempts"][-1] == {"port": record["port"], "result": "up"}
    assert record["port"] != decoy.port
    assert decoy.connections > 0, "the decoy was never reached: the test proves nothing"
    seen, token = read_id(record)
    assert seen == token
    tool("stop", "--state-dir", str(tmp_path))
    assert not running(record["container"])


def test_a_port_lost_to_another_vms_sshd_that_accepts_the_same_key(image, tmp_path):
    (first,) = start(tmp_path, [("first", image)])
    (second,) = start(tmp_path, [("second", image)], "--first-port=%d" % first["port"])
    assert second["attempts"][0]["port"] == first["port"]
    assert "held by another process" in second["attempts"][0]["result"]
    assert second["port"] not in (first["port"], None)
    for record in (first, second):
        seen, token = read_id(record)
        assert seen == token, "%s answers with another VM's id" % record["container"]
    assert read_id(first)[1] != read_id(second)[1]
    tool("stop", "--state-dir", str(tmp_path))


def test_runs_side_by_side_get_their_own_names_and_ports_and_remove_only_their_own(image, tmp_path):
    dirs = [tmp_path / "run-a", tmp_path / "run-b"]
    for path in dirs:
        path.mkdir()
    argvs = [[sys.executable, TOOL, "start", "--state-dir", str(path), "--key", str(path / "id_ed25519"),
              "--prefix", "mh-harness-test-", "--vm=twin-1=%s" % image, "--vm=twin-2=%s" % image] for path in dirs]
    processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                                  env=env()) for argv in argvs]
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (_out, err) in zip(processes, outputs):
        assert process.returncode == 0, err
    runs = [json.loads(out)["vms"] for out, _err in outputs]
    records = runs[0] + runs[1]
    names = [record["container"] for record in records]
    ports = [record["port"] for record in records]
    assert len(set(names)) == 4, names
    assert len(set(ports)) == 4, ports
    assert all(name.startswith("mh-harness-test-twin-") for name in names)
    for record in records:
        seen, token = read_id(record)
        assert seen == token
    removed = json.loads(tool("stop", "--state-dir", str(dirs[0])).stdout)["removed"]
    assert sorted(removed) == sorted(record["container"] for record in runs[0])
    assert not any(running(record["container"]) for record in runs[0])
    assert all(running(record["container"]) for record in runs[1])
    tool("stop", "--state-dir", str(dirs[1]))


def test_reap_removes_only_the_vms_of_runs_whose_process_is_gone(image, tmp_path):
    gone = subprocess.Popen(["sleep", "600"])
    try:
        (orphan,) = start(tmp_path, [("orphan", image)], environ=env(MH_RUN_OWNER=str(gone.pid)))
    finally:
        gone.kill()
        gone.wait()
    (owned,) = start(tmp_path, [("owned", image)], environ=env(MH_RUN_OWNER=str(os.getpid())))
    (unowned,) = start(tmp_path, [("unowned", image)])
    removed = json.loads(tool("reap").stdout)["removed"]
    assert orphan["container"] in removed
    assert owned["container"] not in removed and unowned["container"] not in removed
    assert not running(orphan["container"])
    assert running(owned["container"]) and running(unowned["container"])
    tool("stop", "--state-dir", str(tmp_path))


def test_stop_run_id_removes_exactly_that_runs_containers(image, tmp_path):
    other_run = RUN_ID + "-other"
    (mine,) = start(tmp_path / "mine", [("mine", image)])
    (other,) = start(tmp_path / "other", [("other", image)], environ=env(MH_RUN_ID=other_run))
    try:
        removed = json.loads(tool("stop", "--run-id", other_run).stdout)["removed"]
        assert removed == [other["container"]]
        assert running(mine["container"]) and not running(other["container"])
    finally:
        tool("stop", "--run-id", other_run, check=False)
    tool("stop", "--state-dir", str(tmp_path / "mine"))


def test_a_restarted_vm_whose_port_was_taken_is_refused_not_reached(image, tmp_path):
    (record,) = start(tmp_path, [("restarted", image)])
    vm.docker("stop", "--time=5", record["container"])
    taker = Decoy(record["port"])
    try:
        vm.docker("start", record["container"])
        done = tool("wait", "--state", record["state"], "--timeout=60", check=False)
        assert done.returncode != 0
        assert "127.0.0.1:%d is held by another process" % record["port"] in done.stderr
    finally:
        taker.close()
    vm.docker("restart", "--time=5", record["container"])
    done = tool("wait", "--state", record["state"], "--timeout=60")
    assert json.loads(done.stdout) == {"container": record["container"], "port": record["port"]}
    tool("stop", "--state-dir", str(tmp_path))
