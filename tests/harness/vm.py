"""Test "VMs": systemd + sshd containers on the host network, each sshd on a loopback port of its own.

The one implementation behind molecule's create and destroy playbooks (molecule/shared/), the demo
and the bench. Standard library only, plus the docker and ssh clients.

    vm.py start --state-dir DIR --key KEY --vm NAME=IMAGE [--vm NAME=IMAGE...] [--prefix P]
                [--first-port PORT...] [--attempts N] [--timeout S]
        Starts one container per --vm, side by side, and waits until each answers over SSH as
        `deploy` with KEY (made if missing). Each container is named PREFIX + NAME + "-" + a random
        token, so that neither two VMs of one run nor runs side by side (a second copy of the suite
        among them) share a name; nothing of another run is ever removed. Its sshd port is chosen at
        run time: a port of 127.0.0.1 that can be bound now, outside the kernel's range for outgoing
        connections, and not the port of any other VM container (running or stopped, of any run).
        A VM is up when an SSH login with KEY reads the token mounted at /etc/mh-vm-id in this very
        container: whatever else answers on the port (a service that took it between the choice and
        sshd's start, another VM's sshd) fails that proof. If sshd could not bind because another
        process took the port, the container is started again on a new port (--attempts in all).
        --first-port ports are tried first, as they are, as if chosen free and then lost: for the
        harness's own tests (default: the comma-separated MH_VM_FIRST_PORTS).
        Prints {"vms": [{"instance": NAME, "container", "address", "port", "user", "identity_file",
        "state", "attempts": [{"port", "result"}]}]}; DIR/<container>.json keeps each VM's state.
        Labels: hauser.multi_hauser.test.vm-port=PORT; .run=$MH_RUN_ID and .owner=PID-STARTTIME
        of the process $MH_RUN_OWNER, when set (see reap and stop --run-id). With $MH_VM_LOG set,
        appends each VM's record (one JSON line) to that file too.

    vm.py wait --state FILE [--timeout S]
        After a `docker start` of a VM: waits until its own sshd answers again (same proof); fails
        at once, naming the port, when another process holds the port.

    vm.py stop (--state-dir DIR | --state FILE... | --run-id ID)
        Removes exactly these containers: those of the state files (and the files), or every
        container labelled with the run ID. Prints {"removed": [name...]}.

    vm.py reap
        Removes the containers labelled with an owner process that is gone (an aborted run's); never
        one whose owner still runs, nor one without an owner (the demo's).

    vm.py labels
        Prints the run's labels as docker run options (--label=...), one a line, for the harness's
        other containers.
"""

import argparse
import concurrent.futures
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

LABEL = "hauser.multi_hauser.test"
PORT_LABEL = LABEL + ".vm-port"
RUN_LABEL = LABEL + ".run"
OWNER_LABEL = LABEL + ".owner"
ADDRESS = "127.0.0.1"
USER = "deploy"
ID_FILE = "/etc/mh-vm-id"
DOCKER_RUN = [
    "docker", "run", "--detach", "--network=host", "--cap-add=SYS_ADMIN",
    "--security-opt=seccomp=unconfined", "--tmpfs=/run", "--tmpfs=/run/lock",
    "--volume=/sys/fs/cgroup:/sys/fs/cgroup:rw", "--cgroupns=host",
]
SSH_OPTIONS = [
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=3", "-o", "ControlMaster=no", "-o", "ControlPath=none",
    "-o", "LogLevel=INFO",
]
LOWEST_PORT = 10000


class VMError(Exception):
    pass


class PortTaken(VMError):
    pass


def docker(*args, check=True, timeout=120):
    done = subprocess.run(["docker"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise VMError("docker %s: %s" % (" ".join(args[:2]), (done.stderr or done.stdout).strip()))
    return done


# --- owners -------------------------------------------------------------------------------------

def process_start(pid):
    """The start time (clock ticks since boot) of process pid, or None when it does not exist."""
    try:
        with open("/proc/%d/stat" % int(pid)) as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, ValueError, IndexError):
        return None


def owner_label(pid):
    """PID-STARTTIME: names one process, even after its pid is reused."""
    start = process_start(pid)
    if start is None:
        raise VMError("owner process %s does not exist" % pid)
    return "%d-%s" % (int(pid), start)


def owner_alive(label):
    pid, dash, start = label.partition("-")
    return dash == "-" and pid.isdigit() and process_start(pid) == start


def run_labels():
    labels = []
    if os.environ.get("MH_RUN_ID"):
        labels.append("%s=%s" % (RUN_LABEL, os.environ["MH_RUN_ID"]))
    if os.environ.get("MH_RUN_OWNER"):
        labels.append("%s=%s" % (OWNER_LABEL, owner_label(os.environ["MH_RUN_OWNER"])))
    return labels


# --- ports --------------------------------------------------------------------------------------

def candidate_ports():
    """Ports outside the kernel's range for outgoing connections, which could take them any time."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            low, high = (int(value) for value in handle.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    ports = [port for port in range(LOWEST_PORT, 65536) if not low <= port <= high]
    return ports or list(range(LOWEST_PORT, 65536))


def vm_ports():
    """The ports of every VM container there is, running or stopped, of any run."""
    out = docker("ps", "--all", "--filter", "label=" + PORT_LABEL,
                 "--format", '{{.Label "%s"}}' % PORT_LABEL).stdout
    return set(int(port) for port in out.split() if port.isdigit())


def bindable(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((ADDRESS, port))
        except OSError:
            return False
    return True


def accepts(port):
    """Whether something accepts TCP connections on the port."""
    try:
        with socket.create_connection((ADDRESS, port), timeout=1):
            return True
    except OSError:
        return False


class PortChooser:
    """Free ports for the VMs of one invocation, never the same twice."""

    def __init__(self, first_ports):
        self.first_ports = list(first_ports)
        self.given = set()
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            if self.first_ports:
                port = self.first_ports.pop(0)
            else:
                taken = vm_ports() | self.given
                port = next((port for port in random.sample(candidate_ports(), 500)
                             if port not in taken and bindable(port)), None)
                if port is None:
                    raise VMError("no free loopback port found")
            self.given.add(port)
            return port


# --- one VM -------------------------------------------------------------------------------------

def ssh_read_id(state):
    """(exit code, output, what ssh said of an error) of an SSH login that reads the VM's id file."""
    argv = ["ssh", "-i", state["identity_file"], "-p", str(state["port"])] + SSH_OPTIONS + [
        "%s@%s" % (USER, ADDRESS), "cat", ID_FILE]
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              universal_newlines=True, timeout=15, check=False)
    except subprocess.TimeoutExpired:
        return 255, "", "ssh timed out"
    said = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("Warning: Permanently")]
    return done.returncode, done.stdout.strip(), " ".join(said)


def sshd_unit(name):
    """ssh.service's ActiveState in the container, "" when it cannot be read (yet)."""
    done = docker("exec", name, "systemctl", "show", "--property=ActiveState", "--value", "ssh.service",
                  check=False, timeout=30)
    return done.stdout.strip() if done.returncode == 0 else ""


def running(name):
    return docker("inspect", "--format", "{{.State.Running}}", name, check=False).stdout.strip() == "true"


def journal(name):
    return docker("exec", name, "journalctl", "--no-pager", "--lines=15", "--unit=ssh.service",
                  check=False, timeout=30).stdout.strip()


def wait_own_sshd(state, timeout):
    """Wait until the VM's own sshd lets KEY in; PortTaken when sshd failed because another process
    holds the port; VMError when the VM fails otherwise or times out."""
    name, port = state["container"], state["port"]
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        code, out, said = ssh_read_id(state)
        if code == 0 and out == state["token"]:
            return
        last = "ssh exit %d, %s" % (code, said or "no message") if code else "ssh reached a VM whose id is not this one's"
        if not running(name):
            logs = docker("logs", "--tail=20", name, check=False)
            raise VMError("container %s stopped; its log ends:\n%s%s" % (name, logs.stdout, logs.stderr))
        if sshd_unit(name) == "failed":
            if accepts(port):
                raise PortTaken("%s:%d is held by another process: sshd could not bind it, and what answers "
                                "there is not this VM (%s)" % (ADDRESS, port, last))
            raise VMError("sshd of %s failed on port %d:\n%s" % (name, port, journal(name)))
        if time.monotonic() >= deadline:
            raise VMError("%s did not answer over SSH on %s:%d within %.0f s (%s; ssh.service %s)"
                          % (name, ADDRESS, port, timeout, last, sshd_unit(name) or "unknown"))
        time.sleep(0.5)


def write_state(path, state):
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    os.replace(str(partial), str(path))


def start_one(instance, image, prefix, key, state_dir, ports, attempts, timeout):
    """Start and prove one VM; return its record. Removes its container when it fails."""
    name = "%s%s-%s" % (prefix, instance, secrets.token_hex(4))
    state_path = state_dir / (name + ".json")
    token = secrets.token_hex(16)
    id_file = state_dir / (name + ".id")
    id_file.write_text(token + "\n")
    id_file.chmod(0o644)
    port_conf = state_dir / (name + "-sshd.conf")
    state = {"instance": instance, "container": name, "image": image, "address": ADDRESS, "port": None,
             "user": USER, "identity_file": str(key), "state": str(state_path), "token": token,
             "attempts": []}
    labels = ["--label=" + label for label in run_labels()]
    try:
        for attempt in range(attempts):
            port = state["port"] = ports.next()
            write_state(state_path, state)  # before docker run: stop --state-dir finds the container
            port_conf.write_text("Port %d\n" % port)
            port_conf.chmod(0o644)
            docker(*(DOCKER_RUN[1:] + [
                "--name=" + name, "--label=%s=%d" % (PORT_LABEL, port)] + labels + [
                "--volume=%s:/etc/ssh/sshd_config.d/20-port.conf:ro" % port_conf,
                "--volume=%s.pub:/home/%s/.ssh/authorized_keys:ro" % (key, USER),
                "--volume=%s:%s:ro" % (id_file, ID_FILE),
                image, "/sbin/init"]))
            try:
                wait_own_sshd(state, timeout)
            except PortTaken as lost:
                state["attempts"].append({"port": state["port"], "result": str(lost)})
                docker("rm", "--force", "--volumes", name, check=False)
                continue
            state["attempts"].append({"port": state["port"], "result": "up"})
            write_state(state_path, state)
            return state
        raise VMError("%s: every port tried was taken by another process: %s"
                      % (name, [tried["port"] for tried in state["attempts"]]))
    except Exception:
        docker("rm", "--force", "--volumes", name, check=False)
        forget(state_path)
        raise


def forget(state_path):
    """Remove a VM's files in its state directory."""
    name = state_path.name[:-len(".json")]
    for path in (state_path, state_path.with_name(name + ".id"), state_path.with_name(name + "-sshd.conf")):
        try:
            path.unlink()
        except OSError:
            pass


# --- commands -----------------------------------------------------------------------------------

def command_start(args):
    state_dir = Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    key = Path(args.key).resolve()
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mh-test-vm", "-f", str(key)],
                       check=True)
    vms = []
    for spec in args.vm:
        instance, equals, image = spec.partition("=")
        if not instance or not equals or not image:
            raise VMError("--vm wants NAME=IMAGE, not %r" % spec)
        vms.append((instance, image))
    first = args.first_port
    if first is None:
        first = [int(port) for port in os.environ.get("MH_VM_FIRST_PORTS", "").split(",") if port.strip()]
    ports = PortChooser(first)
    with concurrent.futures.ThreadPoolExecutor(max(1, len(vms))) as pool:
        futures = [pool.submit(start_one, instance, image, args.prefix, key, state_dir, ports, args.attempts,
                               args.timeout) for instance, image in vms]
        concurrent.futures.wait(futures)
    errors = [str(future.exception()) for future in futures if future.exception()]
    if errors:
        for future in futures:  # all or nothing
            if not future.exception():
                stop_states([Path(future.result()["state"])])
        raise VMError("; ".join(errors))
    records = [dict((k, v) for k, v in future.result().items() if k != "token") for future in futures]
    if os.environ.get("MH_VM_LOG"):  # the harness's record of the VMs a run started
        with open(os.environ["MH_VM_LOG"], "a") as log:
            for record in records:
                log.write(json.dumps(record, sort_keys=True) + "\n")
    print(json.dumps({"vms": records}, indent=2, sort_keys=True))


def command_wait(args):
    state = json.loads(Path(args.state).read_text())
    wait_own_sshd(state, args.timeout)
    print(json.dumps({"container": state["container"], "port": state["port"]}, sort_keys=True))


def stop_states(paths):
    removed = []
    for path in paths:
        try:
            name = json.loads(path.read_text())["container"]
        except (OSError, ValueError, KeyError):
            name = path.name[:-len(".json")]
        if docker("rm", "--force", "--volumes", name, check=False).returncode == 0:
            removed.append(name)
        forget(path)
    return removed


def command_stop(args):
    if args.run_id:
        ids = docker("ps", "--all", "--quiet", "--filter", "label=%s=%s" % (RUN_LABEL, args.run_id)).stdout.split()
        names = [docker("inspect", "--format", "{{.Name}}", cid, check=False).stdout.strip().lstrip("/")
                 for cid in ids]
        if ids:
            docker("rm", "--force", "--volumes", *ids, check=False)
        removed = [name for name in names if name]
    else:
        paths = [Path(path) for path in args.state]
        if args.state_dir and Path(args.state_dir).is_dir():
            paths += sorted(Path(args.state_dir).glob("*.json"))
        removed = stop_states(paths)
    print(json.dumps({"removed": removed}, sort_keys=True))


def command_reap(_args):
    out = docker("ps", "--all", "--filter", "label=" + OWNER_LABEL,
                 "--format", '{{.Names}} {{.Label "%s"}}' % OWNER_LABEL).stdout
    stale = [line.split()[0] for line in out.splitlines()
             if len(line.split()) == 2 and not owner_alive(line.split()[1])]
    if stale:
        docker("rm", "--force", "--volumes", *stale, check=False)
    print(json.dumps({"removed": stale}, sort_keys=True))


def command_labels(_args):
    for label in run_labels():
        print("--label=" + label)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    commands.required = True
    sub = commands.add_parser("start")
    sub.add_argument("--state-dir", required=True)
    sub.add_argument("--key", required=True, help="private key; KEY.pub is authorized (both made if missing)")
    sub.add_argument("--vm", action="append", required=True, help="NAME=IMAGE")
    sub.add_argument("--prefix", default="", help="of the container names")
    sub.add_argument("--first-port", action="append", type=int, default=None)
    sub.add_argument("--attempts", type=int, default=5)
    sub.add_argument("--timeout", type=float, default=120, help="seconds per attempt")
    sub.set_defaults(run=command_start)
    sub = commands.add_parser("wait")
    sub.add_argument("--state", required=True)
    sub.add_argument("--timeout", type=float, default=120)
    sub.set_defaults(run=command_wait)
    sub = commands.add_parser("stop")
    group = sub.add_mutually_exclusive_group(required=True)
    group.add_argument("--state-dir")
    group.add_argument("--state", action="append", default=[])
    group.add_argument("--run-id")
    sub.set_defaults(run=command_stop)
    sub = commands.add_parser("reap")
    sub.set_defaults(run=command_reap)
    sub = commands.add_parser("labels")
    sub.set_defaults(run=command_labels)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except VMError as error:
        print("vm.py %s: %s" % (args.command, error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
