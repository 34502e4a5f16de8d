# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""supervisord's XML-RPC interface, reached the way supervisorctl reaches it, with the standard
library alone (whatever Python runs the module, whatever Python the distribution's supervisor uses).

supervisorctl sends one request per program and, for every stop or start, waits for the
supervisord tick that reports it (about one second each): 500 orgs cost minutes. Through
system.multicall, the modules stop, remove, add and start any number of programs in a couple of
requests, and wait for all of them at once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import re
import socket
import time

try:
    import configparser
    import http.client as http_client
    import xmlrpc.client as xmlrpc_client
except ImportError:  # Python 2 targets have neither; the modules say so
    configparser = http_client = xmlrpc_client = None

# supervisord's fault codes (supervisor/xmlrpc.py) that the modules treat as "already so".
FAULT_NOT_RUNNING = 70
FAULT_ALREADY_STARTED = 60
FAULT_SPAWN_ERROR = 50
FAULT_ALREADY_ADDED = 90

# The modules' options that say how to reach supervisord (documented in doc_fragments/supervisor.py).
SUPERVISOR_ARGUMENT_SPEC = dict(
    supervisor_config=dict(type="path", default="/etc/supervisor/supervisord.conf"),
)

# States (supervisor/states.py) in which a process runs or is about to.
ACTIVE_STATES = ("RUNNING", "STARTING", "BACKOFF", "STOPPING")

# supervisorctl's default when the config names no server.
DEFAULT_SERVER_URL = "http://localhost:9001"

_EXPANSION = re.compile(r"%\((here|ENV_[A-Za-z0-9_]+)\)s")


class SupervisorError(Exception):
    """supervisord could not be reached, or refused a request; the message says which and why."""


def _expand(value, here):
    def replace(match):
        name = match.group(1)
        return here if name == "here" else os.environ.get(name[len("ENV_"):], "")
    return _EXPANSION.sub(replace, value)


def server_settings(config_path):
    """(serverurl, username, password) of the [supervisorctl] section of supervisord's config, as
    supervisorctl -c CONFIG reads them (with %(here)s and %(ENV_X)s expanded)."""
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";",), strict=False)
    try:
        with open(config_path) as handle:
            parser.read_file(handle)
    except (IOError, OSError) as error:
        raise SupervisorError("cannot read supervisord's config %s: %s" % (config_path, error.strerror))
    except configparser.Error as error:
        raise SupervisorError("cannot parse supervisord's config %s: %s" % (config_path, error))
    here = os.path.dirname(os.path.abspath(config_path))

    def option(name, default=None):
        if not parser.has_option("supervisorctl", name):
            return default
        return _expand(parser.get("supervisorctl", name).strip(), here)

    return option("serverurl", DEFAULT_SERVER_URL), option("username"), option("password")


if http_client is not None:
    class _UnixHTTPConnection(http_client.HTTPConnection):
        def __init__(self, path, timeout):
            http_client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
            self._socket_path = path

        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(self.timeout)
            self.sock.connect(self._socket_path)

    class _Transport(xmlrpc_client.Transport):
        """HTTP over supervisord's unix socket or TCP port, a new connection per request (as
        supervisorctl does), with basic authentication when the config gives a username."""

        def __init__(self, socket_path, timeout, username=None, password=None):
            xmlrpc_client.Transport.__init__(self)
            self._socket_path = socket_path
            self._timeout = timeout
            self._auth = []
            if username:
                token = base64.b64encode(("%s:%s" % (username, password or "")).encode("utf-8")).decode("ascii")
                self._auth = [("Authorization", "Basic " + token)]

        def make_connection(self, host):
            self.close()
            if self._socket_path:
                connection = _UnixHTTPConnection(self._socket_path, self._timeout)
            else:
                connection = http_client.HTTPConnection(host, timeout=self._timeout)
            self._connection = host, connection
            self._extra_headers = list(self._auth)  # sent by send_headers; never part of a URL or message
            return connection


class Supervisor(object):
    """One supervisord, as named by the [supervisorctl] section of its config."""

    def __init__(self, config_path, timeout=60):
        if xmlrpc_client is None:
            raise SupervisorError("talking to supervisord needs Python 3 on the host")
        url, username, password = server_settings(config_path)
        # As messages name it: a user and password in the URL are not shown.
        self.url = re.sub(r"^([a-z]+://)[^/]*@", r"\1", url)
        self.config_path = config_path
        if url.startswith("unix://"):
            transport = _Transport(url[len("unix://"):], timeout, username, password)
            endpoint = "http://localhost/RPC2"
        elif url.startswith("http://"):
            transport = _Transport(None, timeout, username, password)
            endpoint = "http://%s/RPC2" % url[len("http://"):].split("/")[0].split("@")[-1]
        else:
            raise SupervisorError("supervisord's serverurl %s in %s is neither unix:// nor http://"
                                  % (self.url, config_path))
        self._proxy = xmlrpc_client.ServerProxy(endpoint, transport=transport, allow_none=True)

    def call(self, method, *args):
        """supervisor.METHOD(*args) (or system.METHOD), its faults raised as SupervisorError."""
        try:
            return getattr(self._proxy, _qualified(method))(*args)
        except xmlrpc_client.Fault as fault:
            raise SupervisorError("supervisord refused %s: %s" % (method, fault.faultString))
        except xmlrpc_client.ProtocolError as error:
            if error.errcode == 401:
                raise SupervisorError("supervisord at %s refused the username and password of the [supervisorctl]"
                                      " section of %s" % (self.url, self.config_path))
            raise SupervisorError("supervisord at %s answered HTTP %s %s" % (self.url, error.errcode, error.errmsg))
        except (socket.error, IOError, OSError, http_client.HTTPException) as error:
            raise SupervisorError("cannot reach supervisord at %s (is it running?): %s" % (self.url, error))

    def multicall(self, calls):
        """[(method, args), ...] in one request; returns each call's result, or for a call that
        failed, the tuple (fault code, fault string)."""
        if not calls:
            return []
        results = self.call("system.multicall", [
            {"methodName": _qualified(method), "params": list(args)}
            for method, args in calls])
        # supervisord returns each result as it is (not in a one-element array) and each fault as a struct
        return [(result["faultCode"], result["faultString"]) if isinstance(result, dict) and "faultCode" in result
                else result
                for result in results]

    def processes(self):
        """process name -> its info (getAllProcessInfo), for every process of supervisord."""
        return dict((info["name"], info) for info in self.call("getAllProcessInfo"))

    def wait(self, names, done, timeout, interval=0.2):
        """Polls until done(info) holds for every process in names (a process that is gone counts
        as done). Returns the infos of those for which it still does not hold at the timeout."""
        deadline = time.time() + timeout
        while True:
            infos = self.processes()
            pending = dict((name, infos[name]) for name in names if name in infos and not done(infos[name]))
            if not pending or time.time() >= deadline:
                return pending
            time.sleep(interval)


def _qualified(method):
    """supervisor.METHOD, unless METHOD names its namespace (system.multicall)."""
    return method if "." in method else "supervisor." + method


def namespec(group):
    """The name supervisord's process calls take for the one process of a group named like it."""
    return "%s:%s" % (group, group)
