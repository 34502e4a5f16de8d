"""A fake FullStory API for the tests: the endpoints hauser 1.5.1 calls (client/*.go), on
loopback, answering each export with a small gzip'd JSON array of plausible records for the
window asked for, and a control API through which a test makes a key fail, slow down or recover,
and reads what happened.

    python3 tests/fake_fullstory/serve.py --port 0 --port-file F [--bind 127.0.0.1] [--state-dir D]

prints the port it listens on (and writes it to F, whole, once listening). Tests use serving()
instead: a server on a free port in a thread, yielding a Control for it.

The API, as hauser calls it (every request but the download carries `Authorization: Basic <key>`;
without that header the answer is 401):

    POST /segments/v1/exports            {"segmentId", "type": "TYPE_EVENT", "format":
                                          "FORMAT_JSON", "timeRange": {"start", "end"}, ...}
                                          -> {"operationId": "op-000001"}  (400 if malformed)
    GET  /operations/v1/<operationId>    -> {"id", "type": "SEARCH_EXPORT", "state": "COMPLETED",
                                          "estimatePctComplete": 100, "results":
                                          {"searchExportId": "exp-000001", "expires": "..."}}
                                          (state RUNNING while polls remain, FAILED if told)
    GET  /search/v1/exports/<id>/results -> {"location": "http://127.0.0.1:<port>/_download/<t>"}
    GET  /_download/<t>                  -> the records, gzip'd JSON (no Authorization: the URL is
                                          its own credential; the stats count downloads that
                                          carried one all the same)

Any key is accepted, unless the control API says otherwise. Operations and exports belong to the
key that created them (404 for another key).

The control API (no authentication; a key in a path is percent-encoded, quote(key, safe="")):

    POST   /_control/keys/<key>    a behaviour for that key, or a list of behaviours (a queue)
    DELETE /_control/keys/<key>    drop the key's behaviour: it follows the default again
    GET    /_control/keys/<key>    {"key_id", "label", "behaviour", "queue", "stats"}
    POST   /_control/default       the behaviour of every key without one of its own (neither
                                   times nor label)
    GET    /_control/stats         {"keys": {<key_id>: stats}, "totals": {...}}
    POST   /_control/reset         forget every behaviour, statistic, operation and export
    GET    /_control/health        {"ok": true}

A behaviour is a JSON object; {} answers normally (it recovers a key from a default that fails).
Its fields, all optional:

    status         answer with this HTTP status (401, 403, 429, 500, 503 ...) and a JSON error
    retry_after    seconds, sent as Retry-After with the status (429 and 503 use it)
    delay_seconds  wait this long before answering (a slow API)
    endpoints      where status and delay_seconds apply: a list of "create", "operation",
                   "results", "download" (default: all four)
    operation      "FAILED": the operation fails (with error_details); "RUNNING": it never ends
    error_details  the FAILED operation's errorDetails (default "export failed")
    polls          polls answered RUNNING before COMPLETED (default 0: COMPLETED at the first)
    records        how many records an export holds (default 3)
    corrupt        "gzip" (the download is not gzip), "json" (gzip of text that is not JSON),
                   "truncated" (gzip cut short), "empty" (an empty body)
    location_base  the download location's base URL instead of this server's
    times          apply to the next N requests it concerns, then lapse (default: until
                   changed; in a queue, 1)
    label          a name for the key in the log and the stats (kept until reset)

A queue of behaviours is worked through request by request: the first applies (to the requests it
concerns) until its times are used up, then the next; after the last the key answers normally.

A key's statistics: key_id (its SHA-256's first 12 hex digits, the only way the server ever
names a key), label, requests, requests_by_status {"200": n, ...}, requests_by_endpoint,
exports_created, windows [{"start", "end", "operation_id"}], downloads,
downloads_with_authorization, records_served, last_request (RFC 3339, UTC), last_create_body,
last_headers (the headers of its last request, Authorization left out).

Keys never reach stdout or stderr: requests are logged as `<method> <endpoint> key=<label or
key_id> -> <status>`. With --state-dir, the state (keyed by key hashes, never keys) is kept in
D/state.json, rewritten atomically after every change and read back at start.
"""

import argparse
import contextlib
import datetime
import functools
import gzip
import hashlib
import ipaddress
import json
import os
import random
import secrets
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ENDPOINTS = ("create", "operation", "results", "download")
BEHAVIOUR_FIELDS = {
    "status": int, "retry_after": int, "delay_seconds": (int, float), "endpoints": list,
    "operation": str, "error_details": str, "polls": int, "records": int, "corrupt": str,
    "location_base": str, "times": int, "label": str,
}
_CORRUPTIONS = ("gzip", "json", "truncated", "empty")
_OPERATIONS = ("FAILED", "RUNNING")
_ERROR_CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found",
                429: "resource_exhausted", 500: "internal", 503: "unavailable"}


def key_hash(key):
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def key_id(key):
    """How the server names a key: the first 12 hex digits of its SHA-256."""
    return key_hash(key)[:12]


def check_behaviour(behaviour):
    """A behaviour object as the control API takes it, or ValueError saying what is wrong."""
    if not isinstance(behaviour, dict):
        raise ValueError("a behaviour is a JSON object")
    for name, value in behaviour.items():
        expected = BEHAVIOUR_FIELDS.get(name)
        if expected is None:
            raise ValueError("unknown behaviour field %r" % name)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ValueError("behaviour field %r has the wrong type" % name)
    if "status" in behaviour and not 100 <= behaviour["status"] <= 599:
        raise ValueError("status must be an HTTP status code")
    if any(endpoint not in ENDPOINTS for endpoint in behaviour.get("endpoints", ())):
        raise ValueError("endpoints are among %s" % ", ".join(ENDPOINTS))
    if behaviour.get("operation", "FAILED") not in _OPERATIONS:
        raise ValueError("operation is FAILED or RUNNING")
    if behaviour.get("corrupt", "gzip") not in _CORRUPTIONS:
        raise ValueError("corrupt is one of %s" % ", ".join(_CORRUPTIONS))
    return dict(behaviour)


class State:
    """Everything the fake knows, behind one lock; saved to state_file after every change."""

    def __init__(self, state_file=None):
        self.lock = threading.Lock()
        self.state_file = state_file
        self.data = _empty_state()
        if state_file and state_file.exists():
            self.data.update(json.loads(state_file.read_text()))

    def save(self):
        if self.state_file:
            partial = self.state_file.with_name(self.state_file.name + ".partial")
            partial.write_text(json.dumps(self.data, sort_keys=True))
            os.replace(partial, self.state_file)

    def behaviour(self, hashed, endpoint):
        """The behaviour that applies to this request of the key (using up a queued one)."""
        queue = self.data["queues"].get(hashed)
        if queue is None:
            return self._applying(self.data["default"], endpoint) or {}
        while queue and queue[0].get("times") == 0:
            queue.pop(0)
        if not queue:
            return {}
        step = self._applying(queue[0], endpoint)
        if step is None:
            return {}
        if step.get("times") is not None:
            step["times"] -= 1
        return step

    @staticmethod
    def _applying(behaviour, endpoint):
        concerned = behaviour.get("endpoints", ENDPOINTS)
        if endpoint not in concerned and ("status" in behaviour or "delay_seconds" in behaviour):
            return {key: value for key, value in behaviour.items()
                    if key not in ("status", "delay_seconds", "retry_after", "times")}
        return behaviour

    def stats(self, hashed):
        return self.data["stats"].setdefault(hashed, _empty_stats(hashed[:12]))

    def label(self, hashed):
        return self.data["labels"].get(hashed) or hashed[:12]


def _empty_state():
    return {"default": {}, "queues": {}, "labels": {}, "stats": {}, "operations": {},
            "exports": {}, "downloads": {}, "counter": 0,
            "totals": {"requests": 0, "unauthenticated": 0, "control": 0}}


def _empty_stats(identifier):
    return {"key_id": identifier, "requests": 0, "requests_by_status": {},
            "requests_by_endpoint": {}, "exports_created": 0, "windows": [], "downloads": 0,
            "downloads_with_authorization": 0, "records_served": 0, "last_request": None,
            "last_create_body": None, "last_headers": {}}


class FakeFullStoryHandler(BaseHTTPRequestHandler):
    """One request to the fake: the API, the download, or the control API."""

    protocol_version = "HTTP/1.1"
    server_version = "fake-fullstory/1"

    def __init__(self, *args, state, **kwargs):
        self.state = state
        super().__init__(*args, **kwargs)

    # Logging: never the path as it came (a control path holds a key).
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def log_error(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _log(self, endpoint, who, status):
        sys.stderr.write("fake-fullstory: %s %s key=%s -> %d\n"
                         % (self.command, endpoint, who, status))
        sys.stderr.flush()

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self):
        path = self.path.split("?", 1)[0]
        body = self._read_body()
        if path.startswith("/_control/"):
            self._control(path, body)
        elif path.startswith("/_download/") and self.command == "GET":
            self._download(path[len("/_download/"):])
        else:
            self._api(path, body)

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # The API.

    def _api(self, path, body):
        endpoint, argument = _route(self.command, path)
        hashed = self._authenticated()
        if hashed is None:
            with self.state.lock:
                self.state.data["totals"]["requests"] += 1
                self.state.data["totals"]["unauthenticated"] += 1
                self.state.save()
            self._log(endpoint or "unknown", "-", 401)
            self._send_error(401, "missing or malformed Authorization header")
            return
        with self.state.lock:
            behaviour = dict(self.state.behaviour(hashed, endpoint))
            self.state.save()
        self._delay(behaviour)
        with self.state.lock:
            status, answer, headers = self._answer(hashed, endpoint, argument, body, behaviour)
            self._count(hashed, endpoint or "unknown", status, body if endpoint == "create"
                        else None)
            who = self.state.label(hashed)
            self.state.save()
        self._log(endpoint or "unknown", who, status)
        self._send_json(status, answer, headers)

    def _authenticated(self):
        authorization = self.headers.get("Authorization", "")
        if not authorization.startswith("Basic ") or not authorization[6:].strip():
            return None
        return key_hash(authorization[6:].strip())

    def _delay(self, behaviour):
        if behaviour.get("delay_seconds"):
            self.server.stopping.wait(behaviour["delay_seconds"])

    def _answer(self, hashed, endpoint, argument, body, behaviour):
        """(status, JSON answer, extra headers) for an authenticated API request."""
        if "status" in behaviour:
            headers = {}
            if "retry_after" in behaviour:
                headers["Retry-After"] = str(behaviour["retry_after"])
            return behaviour["status"], _error_body(behaviour["status"], "told to fail"), headers
        if endpoint == "create":
            return self._create(hashed, body, behaviour)
        if endpoint == "operation":
            return self._operation(hashed, argument, behaviour)
        if endpoint == "results":
            return self._results(hashed, argument, behaviour)
        return 404, _error_body(404, "no such endpoint"), {}

    def _create(self, hashed, body, behaviour):
        window = _window(body)
        if window is None:
            return 400, _error_body(400, "a TYPE_EVENT, FORMAT_JSON export with a timeRange"), {}
        data = self.state.data
        data["counter"] += 1
        number = data["counter"]
        operation_id = "op-%06d" % number
        data["operations"][operation_id] = {
            "key": hashed, "export_id": "exp-%06d" % number, "start": window[0],
            "end": window[1], "polls": 0, "behaviour": behaviour}
        stats = self.state.stats(hashed)
        stats["exports_created"] += 1
        stats["windows"].append({"start": window[0], "end": window[1],
                                 "operation_id": operation_id})
        return 200, {"operationId": operation_id}, {}

    def _operation(self, hashed, operation_id, behaviour):
        operation = self.state.data["operations"].get(operation_id)
        if operation is None or operation["key"] != hashed:
            return 404, _error_body(404, "no such operation"), {}
        created_with = operation["behaviour"]
        operation["polls"] += 1
        answer = {"id": operation_id, "type": "SEARCH_EXPORT", "state": "RUNNING",
                  "estimatePctComplete": 0, "results": None}
        state = created_with.get("operation") or behaviour.get("operation")
        waits = created_with.get("polls", 0)
        if state == "FAILED":
            answer.update(state="FAILED", errorDetails=created_with.get(
                "error_details", behaviour.get("error_details", "export failed")))
        elif state == "RUNNING" or operation["polls"] <= waits:
            answer["estimatePctComplete"] = min(99, 100 * (operation["polls"] - 1) // (waits + 1))
        else:
            export_id = operation["export_id"]
            self.state.data["exports"][export_id] = operation_id
            answer.update(state="COMPLETED", estimatePctComplete=100, results={
                "searchExportId": export_id, "expires": _rfc3339(_now() + datetime.timedelta(
                    days=1))})
        return 200, answer, {}

    def _results(self, hashed, export_id, behaviour):
        operation_id = self.state.data["exports"].get(export_id)
        operation = self.state.data["operations"].get(operation_id or "")
        if operation is None or operation["key"] != hashed:
            return 404, _error_body(404, "no such export"), {}
        token = secrets.token_hex(12)
        self.state.data["downloads"][token] = operation_id
        base = behaviour.get("location_base") or operation["behaviour"].get("location_base") \
            or "http://%s:%d" % self.server.server_address[:2]
        return 200, {"location": "%s/_download/%s" % (base.rstrip("/"), token)}, {}

    def _download(self, token):
        with self.state.lock:
            operation_id = self.state.data["downloads"].get(token)
            operation = self.state.data["operations"].get(operation_id or "")
            hashed = operation["key"] if operation else None
            behaviour = dict(self.state.behaviour(hashed, "download")) if hashed else {}
            self.state.save()
        self._delay(behaviour)
        with self.state.lock:
            if operation is None:
                status, payload, count = 404, b"", 0
            elif "status" in behaviour:
                status, payload, count = behaviour["status"], b"", 0
            else:
                payload, count = _export_payload(operation, behaviour)
                status = 200
            if hashed:
                stats = self.state.stats(hashed)
                stats["downloads"] += status == 200
                stats["downloads_with_authorization"] += "Authorization" in self.headers
                stats["records_served"] += count
                self._count(hashed, "download", status, None)
            who = self.state.label(hashed) if hashed else "-"
            self.state.save()
        self._log("download", who, status)
        self.send_response(status)
        if status != 200 and "retry_after" in behaviour:
            self.send_header("Retry-After", str(behaviour["retry_after"]))
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _count(self, hashed, endpoint, status, create_body):
        stats = self.state.stats(hashed)
        stats["requests"] += 1
        self.state.data["totals"]["requests"] += 1
        by_status = stats["requests_by_status"]
        by_status[str(status)] = by_status.get(str(status), 0) + 1
        by_endpoint = stats["requests_by_endpoint"]
        by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + 1
        stats["last_request"] = _rfc3339(_now())
        stats["last_headers"] = {name: value for name, value in self.headers.items()
                                 if name.lower() != "authorization"}
        if create_body is not None:
            try:
                stats["last_create_body"] = json.loads(create_body)
            except ValueError:
                stats["last_create_body"] = None

    # The control API.

    def _control(self, path, body):
        with self.state.lock:
            self.state.data["totals"]["control"] += 1
            try:
                status, answer, what = self._control_answer(path, body)
            except ValueError as error:
                status, answer, what = 400, {"error": str(error)}, "bad request"
            self.state.save()
        self._log("control " + what, "-", status)
        self._send_json(status, answer, {})

    def _control_answer(self, path, body):
        rest = path[len("/_control/"):]
        if rest.startswith("keys/") and len(rest) > len("keys/"):
            hashed = key_hash(urllib.parse.unquote(rest[len("keys/"):]))
            return self._control_key(hashed, body)
        action = (self.command, rest)
        if action == ("POST", "default"):
            default = check_behaviour(_json(body))
            if "times" in default or "label" in default:
                raise ValueError("the default takes neither times nor label")
            self.state.data["default"] = default
            return 200, {"default": self.state.data["default"]}, "default"
        if action == ("GET", "stats"):
            return 200, self._all_stats(), "stats"
        if action == ("POST", "reset"):
            self.state.data.clear()
            self.state.data.update(_empty_state())
            return 200, {"reset": True}, "reset"
        if action == ("GET", "health"):
            return 200, {"ok": True}, "health"
        return 404, {"error": "no such control endpoint"}, "unknown"

    def _control_key(self, hashed, body):
        data = self.state.data
        what = "key %s" % hashed[:12]
        if self.command == "POST":
            value = _json(body)
            steps = value if isinstance(value, list) else [value]
            steps = [check_behaviour(step) for step in steps]
            for step in steps:
                if "label" in step:
                    data["labels"][hashed] = step.pop("label")
                if isinstance(value, list):
                    step.setdefault("times", 1)
            data["queues"][hashed] = steps
            self.state.stats(hashed)
        elif self.command == "DELETE":
            data["queues"].pop(hashed, None)
        elif self.command != "GET":
            return 405, {"error": "GET, POST or DELETE"}, what
        stats = dict(self.state.stats(hashed), label=data["labels"].get(hashed))
        queue = data["queues"].get(hashed)
        return 200, {"key_id": hashed[:12], "label": data["labels"].get(hashed),
                     "behaviour": queue[0] if queue else (None if queue is None else {}),
                     "queue": queue, "stats": stats}, what

    def _all_stats(self):
        data = self.state.data
        keys = {hashed[:12]: dict(stats, label=data["labels"].get(hashed))
                for hashed, stats in data["stats"].items()}
        totals = dict(data["totals"], keys=len(keys),
                      exports_created=sum(stats["exports_created"] for stats in keys.values()))
        return {"keys": keys, "totals": totals, "default": data["default"]}

    # Answers.

    def _send_json(self, status, answer, headers):
        payload = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_error(self, status, message):
        self._send_json(status, _error_body(status, message), {})


def _route(method, path):
    """(endpoint, its argument) of an API path; (None, None) for anything else."""
    parts = path.split("/")
    if method == "POST" and path == "/segments/v1/exports":
        return "create", None
    if method == "GET" and len(parts) == 4 and parts[1:3] == ["operations", "v1"]:
        return "operation", urllib.parse.unquote(parts[3])
    if method == "GET" and len(parts) == 6 and parts[1:4] == ["search", "v1", "exports"] \
            and parts[5] == "results":
        return "results", urllib.parse.unquote(parts[4])
    return None, None


def _json(body):
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise ValueError("the body is not JSON") from None


def _window(body):
    """The (start, end) a create request asks for, or None when the request is malformed."""
    try:
        params = json.loads(body)
        if params.get("type") != "TYPE_EVENT" or params.get("format") != "FORMAT_JSON":
            return None
        start, end = params["timeRange"]["start"], params["timeRange"]["end"]
        if _parse_time(start) >= _parse_time(end):
            return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return start, end


def _export_payload(operation, behaviour):
    """The download's bytes and how many records they hold, corrupted if told so."""
    settings = dict(operation["behaviour"], **behaviour)
    corrupt = settings.get("corrupt")
    if corrupt == "empty":
        return b"", 0
    if corrupt == "gzip":
        return b"this is not gzip", 0
    if corrupt == "json":
        return gzip.compress(b"<html>not json</html>", mtime=0), 0
    records = make_records(operation["key"], operation["start"], operation["end"],
                           settings.get("records", 3))
    payload = gzip.compress(json.dumps(records).encode(), mtime=0)
    if corrupt == "truncated":
        return payload[:len(payload) // 2], 0
    return payload, len(records)


def make_records(hashed, start, end, count):
    """Plausible export records (warehouse.BaseExportFields' names) spread over [start, end),
    the same for the same key and window."""
    begin, finish = _parse_time(start), _parse_time(end)
    rng = random.Random("%s %s %s" % (hashed, start, end))
    user, session, page = [rng.randrange(10**15, 10**16) for position in range(3)]
    step = (finish - begin) / (count + 1)
    records = []
    for index in range(count):
        moment = begin + step * (index + 1)
        records.append(_record(rng, index, user, session, page, moment))
    return records


def _record(rng, index, user, session, page, moment):
    event = ("navigate", "load", "click", "change", "custom")[index % 5]
    session_start = moment - datetime.timedelta(minutes=5)
    return {
        "IndvId": user, "UserId": user, "SessionId": session, "PageId": page + index // 3,
        "UserCreated": _rfc3339(moment - datetime.timedelta(days=40)),
        "UserAppKey": "user-%d" % (user % 1000), "UserDisplayName": "User %d" % (user % 100000),
        "UserEmail": "user%d@example.com" % (user % 1000),
        "EventStart": _rfc3339(moment), "EventType": event,
        "EventCustomName": "Checkout" if event == "custom" else "",
        "EventTargetText": 'Buy "now", today' if event == "click" else "",
        "EventTargetSelector": "div.cart > button" if event == "click" else "",
        "EventPageOffset": rng.randrange(0, 60000), "EventSessionOffset": rng.randrange(0, 300000),
        "EventModFrustrated": 0, "EventModDead": 0, "EventModError": 0, "EventModSuspicious": 0,
        "EventCumulativeLayoutShift": round(rng.random() / 10, 4),
        "SessionStart": _rfc3339(session_start), "PageStart": _rfc3339(session_start),
        "PageName": "Checkout", "PageDuration": rng.randrange(1000, 90000),
        "PageActiveDuration": rng.randrange(500, 60000),
        "PageUrl": "https://shop.example.com/cart?item=%d" % (index + 1),
        "PageRefererUrl": "https://shop.example.com/", "PageIp": "192.0.2.%d" % (index + 10),
        "PageLatLong": "48.8566,2.3522",
        "PageUserAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/120.0 Safari/537.36",
        "PageBrowser": "Chrome", "PageBrowserVersion": "120.0", "PageDevice": "Desktop",
        "PagePlatform": "Web", "PageOperatingSystem": "Linux", "PageScreenWidth": 1920,
        "PageScreenHeight": 1080, "PageViewportWidth": 1280, "PageViewportHeight": 720,
        "PageNumInfos": 0, "PageNumWarnings": 1, "PageNumErrors": 0, "PageClusterId": 42,
        "LoadDomContentTime": 850, "LoadEventTime": 1200, "LoadFirstPaintTime": 400,
        "user_plan_str": "pro", "evt_value_real": 12.5,
    }


def _parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _rfc3339(moment):
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _error_body(status, message):
    return {"code": _ERROR_CODES.get(status, "error"), "message": message}


# Running it.

class FakeFullStoryServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler):
        self.stopping = threading.Event()
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        sys.stderr.write("fake-fullstory: error in a request: %s\n" % sys.exc_info()[0].__name__)


def make_server(port=0, bind="127.0.0.1", state_dir=None):
    """A fake FullStory API on bind:port (0: any free port); 127.0.0.0/8 only."""
    address = ipaddress.ip_address(bind)
    if address.version != 4 or not address.is_loopback:
        raise ValueError("refusing to serve on %s: only 127.0.0.0/8 addresses" % bind)
    state_file = None
    if state_dir is not None:
        Path(state_dir).mkdir(parents=True, exist_ok=True)
        state_file = Path(state_dir) / "state.json"
    handler = functools.partial(FakeFullStoryHandler, state=State(state_file))
    return FakeFullStoryServer((bind, port), handler)


def base_url(server):
    host, port = server.server_address[:2]
    return "http://%s:%d" % (host, port)


class Control:
    """The control API of a fake at url, for tests (and for a fake run with the CLI)."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.port = urllib.parse.urlsplit(self.url).port

    def set_key(self, key, behaviour=None, **fields):
        """Give key a behaviour (a dict, a list of dicts, or the fields as keywords)."""
        return self._call("POST", "/_control/keys/" + _quote(key),
                          behaviour if behaviour is not None else fields)

    def clear_key(self, key):
        return self._call("DELETE", "/_control/keys/" + _quote(key))

    def key(self, key):
        return self._call("GET", "/_control/keys/" + _quote(key))

    def stats(self, key=None):
        """The key's statistics, or everything /_control/stats says."""
        if key is not None:
            return self.key(key)["stats"]
        return self._call("GET", "/_control/stats")

    def set_default(self, behaviour=None, **fields):
        return self._call("POST", "/_control/default", behaviour if behaviour is not None
                          else fields)

    def reset(self):
        return self._call("POST", "/_control/reset", {})

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ValueError("%s %s: %s %s" % (method, path.split("/keys/")[0], error.code,
                                               error.read().decode(errors="replace"))) from None


def _quote(key):
    return urllib.parse.quote(key, safe="")


@contextlib.contextmanager
def serving(state_dir=None):
    """A fake on a free loopback port for the with block; yields its Control (.url, .port)."""
    server = make_server(state_dir=state_dir)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield Control(base_url(server))
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--port", required=True, type=int, help="port; 0 picks a free one")
    parser.add_argument("--bind", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument("--port-file", type=Path, help="write the port here once listening")
    parser.add_argument("--state-dir", type=Path, help="keep the state in DIR/state.json")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.port, args.bind, args.state_dir)
    except ValueError as error:
        parser.error(str(error))
    port = server.server_address[1]
    if args.port_file:
        partial = args.port_file.with_name(args.port_file.name + ".partial")
        partial.write_text("%d\n" % port)
        os.replace(partial, args.port_file)
    sys.stdout.write("%d\n" % port)
    sys.stdout.flush()
    sys.stderr.write("fake-fullstory: serving the FullStory API at %s\n" % base_url(server))
    sys.stderr.flush()
    with server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
