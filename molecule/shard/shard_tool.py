"""The shard scenario's eyes on the controller, independent of the collection's code.

    shard_tool.py assign --org ORG... --host HOST=WEIGHT... [--pin ORG=HOST...]
        Which host each org should run on, by the hashing the README documents, as the tests' own
        oracle computes it (tests/oracles/rendezvous.py, not the collection's code). Prints {org: host}.

    shard_tool.py status --host HOST... [--settle SECONDS]
        What runs on each host's VM container, through `docker exec`: every hauser-* program's
        state and pid (supervisorctl status), every hauser process (ps) and each config's
        ExportDelay. With --settle, waits (up to SECONDS) until no program is in a passing state
        (STARTING, BACKOFF, STOPPING). Prints {host: {"programs": {org: {"state", "pid"}},
        "processes": {org: [pid]}, "delays": {org: delay}} or {"error": text}}.

    shard_tool.py watch --host HOST... --log FILE --stop-file FILE [--interval 0.2] [--max-seconds 300]
        Every INTERVAL seconds, until the stop file exists or for at most MAX-SECONDS, reads which
        hauser processes run in each host's VM container, and appends one JSON line per round to
        the log: {"t": start, "end": end, "active": {host: [org...]}}. It reads the process table
        of the docker host, which this controller is: every process of every container at one
        instant, for a few milliseconds of CPU (a supervisorctl per host and round
        would start Python four times every 200 ms, more than two cores can do beside a deploy).
        A process belongs to the container whose cgroup it is in, and to the org whose config its
        command line names (hauser -c /var/lib/multi-hauser/ORG/config.toml).

    shard_tool.py watch-report --log FILE --start T --end T
        Reads a watch log: rounds in all and between the times START and END (epoch seconds, for
        example a deploy run's), the longest gap between rounds then, every round in which an org
        ran on more than one host, and for each org the hosts it was seen on in order ("a+b" when on
        two at once), repeats and rounds where it ran nowhere left out.

A host's VM container is the one molecule's instance config names for it ("container", written by
molecule/shared/create.yml; its path in MOLECULE_INSTANCE_CONFIG, which molecule sets): container
names are the run's own.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "tests", "oracles"))
from rendezvous import documented_assignment  # noqa: E402  # pylint: disable=wrong-import-position

PROGRAM_PREFIX = "hauser-"
PASSING_STATES = ("STARTING", "BACKOFF", "STOPPING")
SEPARATOR = "@@@multi-hauser-shard@@@"
# supervisorctl status, then each config's ExportDelay, then every process.
PROBE = ("supervisorctl status 2>&1; echo %s; grep -H '^ExportDelay' /var/lib/multi-hauser/*/config.toml 2>/dev/null;"
         " echo %s; ps -eo pid=,args=" % (SEPARATOR, SEPARATOR))
STATUS_LINE = re.compile(r"^%s(\S+)\s+(\S+)(?:\s+pid (\d+),)?" % re.escape(PROGRAM_PREFIX))
DELAY_LINE = re.compile(r'^/var/lib/multi-hauser/([^/]+)/config\.toml:ExportDelay\s*=\s*"([^"]*)"')
PROCESS_LINE = re.compile(r"^\s*(\d+)\s+.*/opt/multi-hauser/\S+/hauser -c /var/lib/multi-hauser/([^/\s]+)/config\.toml")
# What supervisorctl says when supervisord is not installed or not running: no hauser runs then.
NO_SUPERVISORD = ("not found", "no such file", "refused connection")
# The collection's other program on a host, beside the orgs': the monitor (an event listener).
MONITOR_LINE = re.compile(r"^multi-hauser-monitor\s")


def container(host):
    """The VM container of host, as molecule's instance config names it."""
    path = os.environ.get("MOLECULE_INSTANCE_CONFIG")
    if not path:
        sys.exit("MOLECULE_INSTANCE_CONFIG is not set: run shard_tool.py from the molecule scenario")
    with open(path) as handle:
        for vm in json.load(handle):
            if vm["instance"] == host:
                return vm["container"]
    sys.exit("no VM %s in %s" % (host, path))


def probe(host):
    """What runs on one host, or {"error": ...} when it cannot be read."""
    try:
        done = subprocess.run(["docker", "exec", container(host), "sh", "-c", PROBE],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return {"error": "docker exec timed out"}
    out = done.stdout.decode("utf-8", "replace")
    parts = out.split(SEPARATOR + "\n")
    if done.returncode != 0 or len(parts) != 3:
        return {"error": ("rc %d: %s %s" % (done.returncode, out, done.stderr.decode("utf-8", "replace"))).strip()}
    status, delays, processes = parts
    state = {"programs": {}, "processes": {}, "delays": {}}
    for line in status.splitlines():
        match = STATUS_LINE.match(line)
        if match:
            state["programs"][match.group(1)] = {"state": match.group(2), "pid": int(match.group(3) or 0)}
        elif line.strip() and not MONITOR_LINE.match(line) and not any(text in line for text in NO_SUPERVISORD):
            return {"error": "unexpected supervisorctl output: " + line}
    for line in delays.splitlines():
        match = DELAY_LINE.match(line)
        if match:
            state["delays"][match.group(1)] = match.group(2)
    for line in processes.splitlines():
        match = PROCESS_LINE.match(line)
        if match:
            state["processes"].setdefault(match.group(2), []).append(int(match.group(1)))
    return state


def probe_all(pool, hosts):
    return dict(zip(hosts, pool.map(probe, hosts)))


def command_assign(args):
    weights = dict((name, float(weight)) for name, weight in (item.split("=", 1) for item in args.host))
    pins = dict(item.split("=", 1) for item in args.pin)
    print(json.dumps(documented_assignment(args.org, weights, pins), sort_keys=True))


def command_status(args):
    deadline = time.time() + args.settle
    with concurrent.futures.ThreadPoolExecutor(len(args.host)) as pool:
        while True:
            states = probe_all(pool, args.host)
            passing = [org for state in states.values() for org, program in state.get("programs", {}).items()
                       if program["state"] in PASSING_STATES]
            if not passing or time.time() >= deadline:
                break
            time.sleep(0.5)
    print(json.dumps(states, sort_keys=True))


CGROUP_CONTAINER = re.compile(r"/docker[-/]([0-9a-f]{64})")
HAUSER_COMMAND = re.compile(r"/opt/multi-hauser/[^/]+/hauser -c /var/lib/multi-hauser/([^/\s]+)/config\.toml$")


def container_ids(hosts):
    """container id -> host, for the hosts' VM containers."""
    out = subprocess.run(["docker", "inspect", "--format", "{{.Id}}"] + [container(host) for host in hosts],
                         stdout=subprocess.PIPE, check=True).stdout.decode("ascii")
    return dict(zip(out.split(), hosts))


def hauser_processes(hosts_by_id):
    """host -> sorted org ids of the hauser processes running in its container now."""
    running = dict((host, set()) for host in hosts_by_id.values())
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            match = HAUSER_COMMAND.search(command)
            if not match:
                continue
            with open("/proc/%s/cgroup" % pid) as handle:
                container = CGROUP_CONTAINER.search(handle.read())
        except (IOError, OSError):
            continue  # the process ended meanwhile
        if container and container.group(1) in hosts_by_id:
            running[hosts_by_id[container.group(1)]].add(match.group(1))
    return dict((host, sorted(orgs)) for host, orgs in running.items())


def command_watch(args):
    deadline = time.time() + args.max_seconds
    hosts_by_id = container_ids(args.host)
    with open(args.log, "a") as log:
        while time.time() < deadline and not os.path.exists(args.stop_file):
            start = time.time()
            round_ = {"t": start, "active": hauser_processes(hosts_by_id)}
            round_["end"] = time.time()
            log.write(json.dumps(round_, sort_keys=True) + "\n")
            log.flush()
            time.sleep(max(0.0, start + args.interval - time.time()))


def command_watch_report(args):
    with open(args.log) as log:
        rounds = [json.loads(line) for line in log if line.strip()]
    during = [round_["t"] for round_ in rounds if args.start <= round_["t"] <= args.end]
    on_two_hosts, seen = [], {}
    for round_ in rounds:
        hosts_of = {}
        for host, orgs in sorted(round_["active"].items()):
            for org in orgs:
                hosts_of.setdefault(org, []).append(host)
        for org, hosts in sorted(hosts_of.items()):
            if len(hosts) > 1:
                on_two_hosts.append({"t": round_["t"], "org": org, "hosts": hosts})
            where = "+".join(hosts)
            if not seen.get(org) or seen[org][-1] != where:
                seen.setdefault(org, []).append(where)
    print(json.dumps({
        "rounds": len(rounds),
        "rounds_during": len(during),
        "first": rounds[0]["t"] if rounds else None,
        "last": rounds[-1]["t"] if rounds else None,
        "max_gap_during": max([b - a for a, b in zip(during, during[1:])] or [None]),
        "on_two_hosts": on_two_hosts,
        "seen": seen,
    }, sort_keys=True))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sub = commands.add_parser("assign")
    sub.add_argument("--org", action="append", required=True)
    sub.add_argument("--host", action="append", required=True, help="HOST=WEIGHT")
    sub.add_argument("--pin", action="append", default=[], help="ORG=HOST")
    sub.set_defaults(run=command_assign)
    sub = commands.add_parser("status")
    sub.add_argument("--host", action="append", required=True)
    sub.add_argument("--settle", type=float, default=0)
    sub.set_defaults(run=command_status)
    sub = commands.add_parser("watch")
    sub.add_argument("--host", action="append", required=True)
    sub.add_argument("--log", required=True)
    sub.add_argument("--stop-file", required=True)
    sub.add_argument("--interval", type=float, default=0.2)
    sub.add_argument("--max-seconds", type=float, default=300)
    sub.set_defaults(run=command_watch)
    sub = commands.add_parser("watch-report")
    sub.add_argument("--log", required=True)
    sub.add_argument("--start", type=float, required=True)
    sub.add_argument("--end", type=float, required=True)
    sub.set_defaults(run=command_watch_report)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
