"""A Prometheus server of the tests' own (Debian's prometheus package), on 127.0.0.1 and a free port.

For the monitoring scenario (molecule/monitoring) and the image's metrics test (tests/image): it
scrapes the given targets every few seconds and evaluates the given rule files as often. Standard
library only, plus the prometheus binary (tests/harness/lib.sh, ensure_prometheus).

    promserver.py start --dir DIR --target HOST:PORT [--target ...] [--rules FILE ...]
                        [--interval 2s] [--owner PID] [--timeout S]
        Writes DIR/prometheus.yml and starts prometheus with its storage in DIR/data, under a
        watchdog of its own session: the watchdog ends prometheus when `stop` tells it to, and when
        the owner process is gone (--owner, default $MH_RUN_OWNER: the harness's run; none if
        neither is given), so that no prometheus outlives the run that started it, even when the
        run is aborted before its clean-up. The port is chosen free at run time, outside the
        kernel's range for outgoing connections and not a test VM's (vm.py), and proven to be this
        server's (its storage path, read back from its flags API); a port lost between the choice
        and prometheus' start is left for another. Prints {"url", "port", "pid", "watchdog"}; the
        same is in DIR/state.json.

    promserver.py stop --dir DIR
        Ends the watchdog of DIR and its prometheus (SIGTERM, then SIGKILL after 10 s) and waits
        until both are gone. Nothing to do when none runs. Prints {"stopped": [pid...]}.

    promserver.py free-port
        Prints a port chosen as above, for another service of the tests (a VM's node_exporter).

start() and stop() do the same from Python.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import vm

PROMETHEUS = "/usr/bin/prometheus"
ADDRESS = "127.0.0.1"
ATTEMPTS = 5
STOP_SECONDS = 10


class PromServerError(Exception):
    pass


def free_port(taken=()):
    """A port of 127.0.0.1 that can be bound now, outside the kernel's range for outgoing
    connections, and neither a VM container's nor one of taken."""
    chooser = vm.PortChooser([])
    chooser.given.update(taken)
    try:
        return chooser.next()
    except vm.VMError as error:
        raise PromServerError(str(error)) from None


def config(targets, rules, interval):
    """prometheus.yml (JSON is YAML): one job scraping the targets, the rule files evaluated."""
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "rule_files": [str(Path(rule).resolve()) for rule in rules],
        "scrape_configs": [{"job_name": "multi_hauser", "static_configs": [{"targets": list(targets)}]}],
    }


def _get_json(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # nosec: loopback only
        return json.loads(answer.read().decode("utf-8"))


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return [part.decode("utf-8", "replace") for part in handle.read().split(b"\0") if part]
    except OSError:
        return []


def _alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _write_state(directory, state):
    path = directory / "state.json"
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state, sort_keys=True) + "\n")
    os.replace(str(partial), str(path))


def read_state(directory):
    try:
        return json.loads((Path(directory) / "state.json").read_text())
    except (OSError, ValueError):
        return None


# --- the watchdog: prometheus' parent, in a session of its own -----------------------------------

class Watchdog:
    """Starts prometheus on a free port (another when the port was lost), proves it is this one,
    then watches it, the owner and SIGTERM."""

    def __init__(self, directory, owner, timeout):
        self.directory = directory
        self.owner = owner
        self.timeout = timeout
        self.process = None
        self.stopping = False

    def _ours(self, port):
        """Whether what answers on the port is this prometheus: its storage path is ours."""
        try:
            flags = _get_json("http://%s:%d/api/v1/status/flags" % (ADDRESS, port))["data"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return flags.get("storage.tsdb.path") == str(self.directory / "data")

    def _start_once(self, port):
        """Start prometheus on port; True once it is ready and proven ours, False when the port
        was taken; PromServerError otherwise."""
        log = open(self.directory / "prometheus.log", "ab")  # pylint: disable=consider-using-with
        try:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [PROMETHEUS, "--config.file=%s" % (self.directory / "prometheus.yml"),
                 "--storage.tsdb.path=%s" % (self.directory / "data"), "--storage.tsdb.retention.time=1d",
                 "--web.listen-address=%s:%d" % (ADDRESS, port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and not self.stopping:
            if self.process.poll() is not None:
                text = (self.directory / "prometheus.log").read_text(errors="replace")
                if "address already in use" in text[-4000:]:
                    return False
                raise PromServerError("prometheus exited with %s; its log ends:\n%s"
                                      % (self.process.returncode, text[-3000:]))
            try:
                with urllib.request.urlopen("http://%s:%d/-/ready" % (ADDRESS, port), timeout=2) as answer:
                    ready = answer.status == 200
            except (OSError, ValueError):
                ready = False
            if ready:
                if self._ours(port):
                    return True
                self._end()
                return False  # another server answers there
            time.sleep(0.2)
        self._end()
        raise PromServerError("prometheus was not ready within %.0f s" % self.timeout)

    def _end(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _on_term(self, _signum, _frame):
        self.stopping = True

    def run(self):
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        tried = []
        try:
            for _attempt in range(ATTEMPTS):
                port = free_port(tried)
                tried.append(port)
                if self._start_once(port):
                    break
            else:
                raise PromServerError("every port tried was taken: %s" % tried)
            _write_state(self.directory, {"url": "http://%s:%d" % (ADDRESS, port), "port": port,
                                          "pid": self.process.pid, "watchdog": os.getpid(), "ports_tried": tried})
            while not self.stopping and self.process.poll() is None:
                if self.owner and not vm.owner_alive(self.owner):
                    break
                time.sleep(0.5)
        except PromServerError as error:
            _write_state(self.directory, {"error": str(error), "watchdog": os.getpid(), "ports_tried": tried})
        finally:
            self._end()


# --- the commands ----------------------------------------------------------------------------------

def start(directory, targets, rules=(), interval="2s", owner=None, timeout=60):
    """Start a prometheus as the module says; returns its state ({"url", "port", "pid", "watchdog"})."""
    directory = Path(directory).resolve()
    (directory / "data").mkdir(parents=True, exist_ok=True)
    running = read_state(directory)
    if running and _alive(running.get("watchdog")):
        raise PromServerError("a prometheus of %s runs already (watchdog %s)" % (directory, running["watchdog"]))
    (directory / "state.json").unlink(missing_ok=True)
    (directory / "prometheus.yml").write_text(json.dumps(config(targets, rules, interval), indent=1) + "\n")
    if owner is None and os.environ.get("MH_RUN_OWNER"):
        owner = os.environ["MH_RUN_OWNER"]
    owner_label = vm.owner_label(owner) if owner else ""
    with open(directory / "watchdog.log", "ab") as log:
        watchdog = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, os.path.abspath(__file__), "watch", "--dir", str(directory), "--owner", owner_label,
             "--timeout", str(timeout)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True)
    deadline = time.monotonic() + timeout * ATTEMPTS + 10
    while True:
        state = read_state(directory)
        if state and "error" in state:
            raise PromServerError(state["error"])
        if state and state.get("watchdog") == watchdog.pid:
            return state
        if watchdog.poll() is not None:
            raise PromServerError("the watchdog exited with %s; see %s"
                                  % (watchdog.returncode, directory / "watchdog.log"))
        if time.monotonic() >= deadline:
            stop(directory)
            raise PromServerError("prometheus did not start within %.0f s" % (timeout * ATTEMPTS))
        time.sleep(0.2)


def stop(directory):
    """End the watchdog of directory and its prometheus; returns the pids that were ended."""
    directory = Path(directory).resolve()
    state = read_state(directory) or {}
    watchdog, server = state.get("watchdog"), state.get("pid")
    # Only processes that are what the state says: pids are reused.
    mine = [pid for pid, mark in ((watchdog, str(directory)), (server, str(directory / "prometheus.yml")))
            if pid and _alive(pid) and any(mark in part for part in _cmdline(pid))]
    if watchdog in mine:
        os.kill(watchdog, signal.SIGTERM)
    elif server in mine:
        os.kill(server, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS + 5
    while any(_alive(pid) for pid in mine):
        if time.monotonic() >= deadline:
            for pid in mine:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            break
        time.sleep(0.1)
    left = [pid for pid in mine if _alive(pid)]
    if left:
        raise PromServerError("still running after SIGKILL: %s" % left)
    return mine


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sub = commands.add_parser("start")
    sub.add_argument("--dir", required=True)
    sub.add_argument("--target", action="append", required=True)
    sub.add_argument("--rules", action="append", default=[])
    sub.add_argument("--interval", default="2s")
    sub.add_argument("--owner", default=None, help="a pid; default $MH_RUN_OWNER")
    sub.add_argument("--timeout", type=float, default=60, help="seconds for prometheus to be ready")
    sub = commands.add_parser("stop")
    sub.add_argument("--dir", required=True)
    sub = commands.add_parser("free-port")
    sub = commands.add_parser("watch")  # the watchdog, started by start
    sub.add_argument("--dir", required=True)
    sub.add_argument("--owner", default="")
    sub.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            print(json.dumps(start(args.dir, args.target, args.rules, args.interval, args.owner, args.timeout),
                             sort_keys=True))
        elif args.command == "stop":
            print(json.dumps({"stopped": stop(args.dir)}))
        elif args.command == "free-port":
            print(free_port())
        else:
            Watchdog(Path(args.dir), args.owner, args.timeout).run()
    except (PromServerError, vm.VMError) as error:
        print("promserver.py %s: %s" % (args.command, error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
