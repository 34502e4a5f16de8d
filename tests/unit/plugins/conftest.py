"""A real supervisord (the one tests/requirements.txt pins, as Debian 12 ships it) for the tests of
the XML-RPC client and of the modules that use it.

``start_supervisord`` starts one in a scratch directory, in the foreground (-n) of a child process,
with its programs from conf.d/*.conf. At the end of the test it is asked to shut down, and at the
end of the session waited for (killed, with any program it leaves behind, if it does not exit). What the tests check about it goes through
supervisor's own client (``Supervisord.rpc``), not through the code under test."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

import pytest
from supervisor.xmlrpc import SupervisorTransport

STARTUP_TIMEOUT = 20
SHUTDOWN_TIMEOUT = 20


class Supervisord:
    """One supervisord: its config, its include directory, and supervisor's own client of it."""

    def __init__(self, directory, socket_dir, http_port=None, credentials=None, supervisorctl=None):
        """http_port: also an [inet_http_server] on 127.0.0.1:http_port; credentials: (username,
        password) that both servers require; supervisorctl: the [supervisorctl] section's text,
        {socket} standing for the socket's path (default: the unix socket, no credentials)."""
        self.dir = directory
        self.conf_d = os.path.join(directory, "conf.d")
        self.logs = os.path.join(directory, "logs")
        os.makedirs(self.conf_d)
        os.makedirs(self.logs)
        # A unix socket's path must stay short (108 bytes), whatever pytest's tmp_path is.
        self.socket_dir = socket_dir
        self.socket = os.path.join(socket_dir, "supervisor.sock")
        self.config = os.path.join(directory, "supervisord.conf")
        self.credentials = credentials or (None, None)
        auth = "username = %s\npassword = %s\n" % credentials if credentials else ""
        sections = [
            "[unix_http_server]\nfile = %s\nchmod = 0700\n%s" % (self.socket, auth),
            "[supervisord]\nlogfile = %s\npidfile = %s\nchildlogdir = %s\nloglevel = info\n"
            % (os.path.join(directory, "supervisord.log"), os.path.join(directory, "supervisord.pid"), self.logs),
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
            (supervisorctl or "[supervisorctl]\nserverurl = unix://{socket}\n").replace("{socket}", self.socket),
            "[include]\nfiles = %s/*.conf\n" % self.conf_d,
        ]
        if http_port:
            sections.append("[inet_http_server]\nport = 127.0.0.1:%d\n%s" % (http_port, auth))
        with open(self.config, "w") as handle:
            handle.write("\n".join(sections))
        self.process = None
        self.children = []

    @property
    def rpc(self):
        """supervisor's own client (a new one each time: it keeps no broken connection)."""
        return xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(self.credentials[0], self.credentials[1], "unix://" + self.socket))

    def add_program(self, name, command="/bin/sleep 600", **options):
        """Writes conf.d/NAME.conf defining [program:NAME] (autostart, startsecs=0 unless given)."""
        settings = {"command": command, "autostart": "true", "autorestart": "false", "startsecs": "0",
                    "startretries": "0", "stopwaitsecs": "5"}
        settings.update((key, str(value)) for key, value in options.items())
        with open(os.path.join(self.conf_d, name + ".conf"), "w") as handle:
            handle.write("[program:%s]\n%s\n" % (name, "".join("%s = %s\n" % item for item in settings.items())))

    def start(self):
        output = os.path.join(self.dir, "supervisord.out")
        with open(output, "wb") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", self.config],
                stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process.poll() is not None:
                with open(output) as handle:
                    pytest.fail("supervisord exited with %s: %s" % (self.process.returncode, handle.read()))
            try:
                if self.rpc.supervisor.getState()["statename"] == "RUNNING":
                    break
            except (OSError, xmlrpc.client.Error):
                pass  # not listening yet
            if time.monotonic() > deadline:
                pytest.fail("supervisord did not answer within %d s (%s)" % (STARTUP_TIMEOUT, self.config))
            time.sleep(0.05)
        return self

    def infos(self):
        """name -> getAllProcessInfo entry, as supervisorctl status would show them."""
        return {info["name"]: info for info in self.rpc.supervisor.getAllProcessInfo()}

    def states(self):
        return {name: info["statename"] for name, info in self.infos().items()}

    def pids(self):
        return {name: info["pid"] for name, info in self.infos().items()}

    def wait_until(self, condition, timeout=20, what="the condition"):
        """Polls supervisord until condition(infos) holds (a generous bound, not a timing check)."""
        deadline = time.monotonic() + timeout
        while not condition(self.infos()):
            if time.monotonic() > deadline:
                pytest.fail("%s did not hold within %d s: %s" % (what, timeout, self.states()))
            time.sleep(0.1)

    def supervisorctl(self, *args):
        return subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", self.config] + list(args),
                              capture_output=True, text=True, timeout=60, check=False)

    def request_shutdown(self):
        """Asks supervisord to stop its programs and exit (finish_shutdown waits for it)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.children = [info["pid"] for info in self.rpc.supervisor.getAllProcessInfo() if info["pid"]]
            self.rpc.supervisor.shutdown()
        except (OSError, xmlrpc.client.Error):
            self.kill()

    def finish_shutdown(self):
        try:
            if self.process is not None:
                self.process.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for pid in self.children:  # supervisord puts each program in a process group of its own
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture(scope="session")
def _stopping_supervisords():
    """The supervisords shutting down: waited for at the end of the session, so that each test
    does not wait for supervisord's next tick to see its programs gone."""
    stopping = []
    yield stopping
    for supervisord in stopping:
        supervisord.finish_shutdown()


@pytest.fixture
def start_supervisord(tmp_path, _stopping_supervisords):
    """start_supervisord(programs=None, **settings) -> a running Supervisord (see Supervisord);
    programs maps a program name to its add_program options. Shut down after the test."""
    started = []

    def start(programs=None, **settings):
        directory = tmp_path / ("supervisord-%d" % len(started))
        supervisord = Supervisord(str(directory), tempfile.mkdtemp(prefix="sv-", dir="/tmp"), **settings)
        started.append(supervisord)
        for name, options in (programs or {}).items():
            supervisord.add_program(name, **options)
        return supervisord.start()

    yield start
    for supervisord in started:
        supervisord.request_shutdown()
        _stopping_supervisords.append(supervisord)
