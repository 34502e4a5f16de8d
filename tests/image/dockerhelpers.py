"""Plain helpers of the image tests: running the build_image playbook, the docker CLI, polling
with a deadline, and what a running container of the multi-hauser image shows (supervisord's
program states, its processes).

Every container started here uses --network none: the engine on the test machine has no bridge,
and the stand-in needs no network.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

PROGRAM_PREFIX = "hauser-"
STANDIN_RUNNING = "hauser stand-in 1.5.1 running"


def process_start(pid):
    """The start time (clock ticks since boot) of process pid, or None when it does not exist."""
    try:
        with open("/proc/%d/stat" % int(pid)) as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, ValueError, IndexError):
        return None


# What this session starts and builds carries its own names, so that sessions side by side (a second
# copy of the suite among them) never share or remove each other's containers and images: containers
# named mh-it-SESSION-*, labelled with the session and its owner (this process, PID-STARTTIME, which
# names it even after its pid is reused), and images tagged ...-SESSION-OWNER. reap_dead_sessions()
# removes what sessions whose process is gone left behind, and nothing else.
SESSION = secrets.token_hex(4)
OWNER = "%d-%s" % (os.getpid(), process_start(os.getpid()))
SESSION_LABEL = "hauser.multi_hauser.test.session"
OWNER_LABEL = "hauser.multi_hauser.test.owner"
RUN_LABEL = "hauser.multi_hauser.test.run"
CONTAINER_PREFIX = "mh-it-%s-" % SESSION
IMAGE = "mh-it/multi-hauser:1.5.1-%s-%s" % (SESSION, OWNER)
_OWNED_TAG = re.compile(r"^mh-it/[^:]+:.*-(\d+-\d+)$")


def session_labels():
    """docker run's --label options of this session's containers."""
    labels = {SESSION_LABEL: SESSION, OWNER_LABEL: OWNER}
    if os.environ.get("MH_RUN_ID"):  # the harness's run, which removes them when it ends
        labels[RUN_LABEL] = os.environ["MH_RUN_ID"]
    return ["--label=%s=%s" % item for item in sorted(labels.items())]


def session_name(name):
    """An image name of this session: NAME-SESSION-OWNER (NAME is repository:tag)."""
    return "%s-%s-%s" % (name, SESSION, OWNER)


def owner_alive(owner):
    pid, dash, start = owner.partition("-")
    return dash == "-" and pid.isdigit() and process_start(pid) == start


def remove_session_containers(session=SESSION):
    """Remove every container of a session; return their ids."""
    ids = docker("ps", "--all", "--quiet", "--filter", "label=%s=%s" % (SESSION_LABEL, session)).stdout.split()
    if ids:
        docker("rm", "--force", "--volumes", *ids, check=False)
    return ids


def reap_dead_sessions():
    """Remove the containers, the images (and their builders, labelled with the image's name) of
    earlier sessions whose process is gone; never those of a session that still runs."""
    removed = []
    out = docker("ps", "--all", "--filter", "label=" + OWNER_LABEL,
                 "--format", '{{.ID}} {{.Label "%s"}}' % OWNER_LABEL).stdout
    dead = [line.split()[0] for line in out.splitlines() if len(line.split()) == 2 and not owner_alive(line.split()[1])]
    if dead:
        docker("rm", "--force", "--volumes", *dead, check=False)
        removed += dead
    images = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    for image in images:
        match = _OWNED_TAG.match(image)
        if not match or owner_alive(match.group(1)):
            continue
        builders = docker("ps", "--all", "--quiet", "--filter", "label=hauser.multi_hauser.builder=" + image).stdout.split()
        if builders:
            docker("rm", "--force", *builders, check=False)
        docker("image", "rm", "--force", image, check=False)
        removed += builders + [image]
    return removed


BUILD_TIMEOUT = 900
# Measured figures, printed at the end of the session (conftest.py).
FIGURES = {}


def ansible_playbook():
    """The ansible-playbook of the Python running the tests (the harness's virtualenv), else PATH's."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    found = str(beside) if beside.exists() else shutil.which("ansible-playbook")
    if not found:
        pytest.fail("ansible-playbook not found beside %s nor in PATH" % sys.executable, pytrace=False)
    return found


def run_build_image(extra_vars, log_path, timeout=BUILD_TIMEOUT):
    """ansible-playbook hauser.multi_hauser.build_image -e K=V...; return (exit code, output, seconds).
    Values that are not strings (a list of orgs, a mapping) go in a JSON file beside log_path,
    given as -e @FILE, so that they arrive as they are."""
    argv = [ansible_playbook(), "hauser.multi_hauser.build_image"]
    structured = {}
    for key, value in extra_vars.items():
        if isinstance(value, str):
            argv += ["-e", "%s=%s" % (key, value)]
        else:
            structured[key] = value
    if structured:
        vars_file = log_path.with_name(log_path.name + ".vars.json")
        vars_file.write_text(json.dumps(structured))
        vars_file.chmod(0o600)
        argv += ["-e", "@%s" % vars_file]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
    start = time.monotonic()
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, timeout=timeout, cwd=str(log_path.parent), check=False)
    seconds = time.monotonic() - start
    log_path.write_text(" ".join(argv) + "\n\n" + result.stdout)
    return result.returncode, result.stdout, seconds


def docker(*args, check=True, timeout=300, input=None):
    """Run `docker ARGS`, output captured as text; raise AssertionError (with the output) on failure."""
    result = subprocess.run(
        ["docker"] + [str(arg) for arg in args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            "docker %s exited %d\nstdout: %s\nstderr: %s"
            % (" ".join(str(arg) for arg in args), result.returncode, result.stdout[-3000:], result.stderr[-3000:])
        )
    return result


def logs(name):
    """The container's whole log, stdout and stderr interleaved as docker logs shows them."""
    result = subprocess.run(["docker", "logs", name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=60, check=False)
    return result.stdout


def split_logs(name):
    """(stdout, stderr) of the container, apart."""
    result = subprocess.run(["docker", "logs", name], capture_output=True, text=True, timeout=60, check=False)
    return result.stdout, result.stderr


def container_state(name):
    return json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)


def stop_cleanly(name):
    """docker stop the container (docker's default timeout, 10 s, then SIGKILL) and check that it
    ended by itself: exited, status 0. Returns (seconds docker stop took, the container's log)."""
    started = time.monotonic()
    stop = docker("stop", name, check=False, timeout=60)
    seconds = time.monotonic() - started
    assert stop.returncode == 0, stop.stderr
    state = container_state(name)
    log = logs(name)
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 0, "exit code %s; log tail:\n%s" % (state["ExitCode"], log[-3000:])
    return seconds, log


def wait_for(what, probe, timeout, interval=0.2):
    """Call probe() until it returns something true, at most timeout seconds; return that value.

    probe may raise AssertionError to stop at once (e.g. the container exited). On timeout the
    last value probe returned (or the last error it raised) is in the message.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = probe()
        except (subprocess.SubprocessError, ValueError) as error:
            last = error
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s; last seen: %r"
                                 % (timeout, what, _short(last)))
        time.sleep(interval)


def _short(value, limit=2000):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def wait_exited(name, timeout=30):
    """Wait until the container has stopped; return its State."""
    def probe():
        state = container_state(name)
        return state if state["Status"] == "exited" else None

    return wait_for("container %s to exit" % name, probe, timeout)


_STATUS_LINE = re.compile(r"^(\S+)\s+([A-Z]+)\b")


def supervisor_status(name):
    """{program: state} from `supervisorctl status` in the container ({} while supervisord is not up);
    programs are named without their group."""
    result = docker("exec", name, "supervisorctl", "status", check=False, timeout=60)
    # supervisorctl exits non-zero while any program is not RUNNING: the text still says why.
    states = {}
    for line in result.stdout.splitlines():
        match = _STATUS_LINE.match(line)
        if match:  # "group:program" when the program is in a group
            states[match.group(1).rsplit(":", 1)[-1]] = match.group(2)
    return states


def wait_all_running(name, org_ids, timeout):
    """Wait until supervisord reports every org's program RUNNING, and no other hauser program."""
    expected = {PROGRAM_PREFIX + org_id for org_id in org_ids}

    def probe():
        state = container_state(name)
        if state["Status"] != "running":
            raise AssertionError("container %s is %s (exit code %s) before every org ran; log:\n%s"
                                 % (name, state["Status"], state.get("ExitCode"), logs(name)[-4000:]))
        states = supervisor_status(name)
        programs = {program: value for program, value in states.items() if program.startswith(PROGRAM_PREFIX)}
        if set(programs) == expected and all(value == "RUNNING" for value in programs.values()):
            return states
        return None

    return wait_for("every program of %d org(s) RUNNING in %s" % (len(expected), name), probe, timeout)


# Run by python3 in the container (the image has no ps): every process with its argv, uids, and
# the few environment variables that matter to hauser. Run as the user hauser: docker exec has no
# CAP_SYS_PTRACE, so even root could not read another user's /proc/PID/environ.
_PROCESSES_SCRIPT = r"""
import json, os, pwd, sys
names = ("HOME", "USER", "GOOGLE_APPLICATION_CREDENTIALS") + tuple(sys.argv[1:])
me = os.getpid()
out = []
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) == me:
        continue
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        with open("/proc/%s/status" % pid) as f:
            uids = [int(u) for u in next(l for l in f if l.startswith("Uid:")).split()[1:]]
    except (OSError, StopIteration):
        continue  # ended meanwhile
    try:  # readable for processes of the same user only
        with open("/proc/%s/environ" % pid, "rb") as f:
            env = dict(e.decode("utf-8", "replace").split("=", 1) for e in f.read().split(b"\0") if b"=" in e)
    except OSError:
        env = {}
    out.append({"pid": int(pid), "argv": argv, "uids": uids,
                "env": {k: env[k] for k in names if k in env}})
print(json.dumps({"processes": out, "hauser_uid": pwd.getpwnam("hauser").pw_uid}))
"""


def processes(name, env_names=()):
    """({"pid", "argv", "uids", "env"} of every process in the container, the uid of user hauser).
    env holds HOME, USER, GOOGLE_APPLICATION_CREDENTIALS and the variables of env_names."""
    data = json.loads(docker("exec", "--user", "hauser", name, "python3", "-c", _PROCESSES_SCRIPT,
                             *env_names).stdout)
    return data["processes"], data["hauser_uid"]


def is_hauser_process(process):
    """hauser itself: its binary (/opt/multi-hauser/<version>/hauser) is one of its arguments."""
    return any(arg.rsplit("/", 1)[-1] == "hauser" for arg in process["argv"])


# Run as some user in the container: the processes whose /proc/PID/environ that user can read,
# and those among them whose environment holds the value given (read from stdin, never in argv).
_ENVIRON_SCRIPT = r"""
import json, os, sys
needle = sys.stdin.buffer.read()
me = os.getpid()
readable, holding = [], []
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) in (me, os.getppid()):
        continue
    try:
        with open("/proc/%s/environ" % pid, "rb") as f:
            data = f.read()
    except OSError:
        continue
    readable.append(int(pid))
    if needle in data:
        holding.append(int(pid))
print(json.dumps({"readable": sorted(readable), "holding": sorted(holding)}))
"""


def environ_readers(name, user, value):
    """({pids whose environment user can read}, {pids among them whose environment holds value})."""
    data = json.loads(docker("exec", "--interactive", "--user", user, name, "python3", "-c", _ENVIRON_SCRIPT,
                             input=value).stdout)
    return set(data["readable"]), set(data["holding"])


def export_scan(name, needles, known_path=None):
    """Every entry of the container's filesystem (docker export: its image and its own changes; not
    its mounts, nor /proc) whose name, link target or content holds one of needles (bytes), as
    {needle: {path: (uid, gid, mode)}}; the number of entries read; and the content of the file
    known_path (to prove that files were read), or None."""
    hits, count, known = dict((needle, {}) for needle in needles), 0, None
    with subprocess.Popen(["docker", "export", name], stdout=subprocess.PIPE) as export:
        with tarfile.open(fileobj=export.stdout, mode="r|") as archive:
            for entry in archive:
                count += 1
                path = "/" + (entry.name[2:] if entry.name.startswith("./") else entry.name).lstrip("/")
                content = archive.extractfile(entry).read() if entry.isfile() else b""
                if path == known_path:
                    known = content
                for needle in needles:
                    if needle in entry.name.encode() or needle in (entry.linkname or "").encode() or needle in content:
                        hits[needle][path] = (entry.uid, entry.gid, entry.mode)
        export.stdout.read()
    assert export.returncode == 0, "docker export %s exited %s" % (name, export.returncode)
    return hits, count, known


# Dumps each org's config.toml with its owner and mode, for the check of the rendered files.
_CONFIGS_SCRIPT = r"""
import json, os, sys
base = sys.argv[1]
out = {}
for org in sorted(os.listdir(base)):
    path = os.path.join(base, org, "config.toml")
    if os.path.isfile(path):
        st = os.stat(path)
        with open(path) as f:
            out[org] = {"text": f.read(), "uid": st.st_uid, "gid": st.st_gid, "mode": st.st_mode & 0o7777}
import pwd
print(json.dumps({"configs": out, "hauser_gid": pwd.getpwnam("hauser").pw_gid}))
"""


def org_configs(name, base_dir="/var/lib/multi-hauser"):
    """({org: {"text", "uid", "gid", "mode"}} of each org's config.toml, the gid of user hauser)."""
    data = json.loads(docker("exec", name, "python3", "-c", _CONFIGS_SCRIPT, base_dir).stdout)
    return data["configs"], data["hauser_gid"]


def go_minutes(minutes):
    """A whole number of minutes as Go's time.Duration.String() writes it (1450 -> 24h10m0s)."""
    return "%dh%dm0s" % divmod(minutes, 60)


# Prints, for each path given, what it is: its kind, owner, mode, and the digest of its content
# (a file), its sorted entries (a directory) or its target (a link); null for a path that is not
# there. Links are never followed.
_STAT_SCRIPT = r"""
import hashlib, json, os, stat, sys
out = {}
for path in sys.argv[1:]:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        out[path] = None
        continue
    if stat.S_ISREG(info.st_mode):
        with open(path, "rb") as f:
            what = hashlib.sha256(f.read()).hexdigest()
    elif stat.S_ISDIR(info.st_mode):
        what = sorted(os.listdir(path))
    elif stat.S_ISLNK(info.st_mode):
        what = os.readlink(path)
    else:
        what = None
    out[path] = [stat.S_IFMT(info.st_mode), info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), what]
print(json.dumps(out))
"""


def path_stats(name, paths, image=None):
    """{path: [kind, uid, gid, mode, content digest | entries | link target] or None} of paths in the
    running container name, or (image given) in a new container of that image."""
    if image is not None:
        out = docker("run", "--rm", "--network", "none", *session_labels(), "--entrypoint", "python3", image,
                     "-c", _STAT_SCRIPT, *paths).stdout
    else:
        out = docker("exec", name, "python3", "-c", _STAT_SCRIPT, *paths).stdout
    return json.loads(out)
