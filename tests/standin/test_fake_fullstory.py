"""The fake FullStory API (tests/fake_fullstory/serve.py): hauser's endpoints, the records it
serves, its control API, its statistics, its command line; and that it never shows a key."""

import collections
import datetime
import gzip
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

KEY = "na1.Tk3yF0rTest/with+slash=="
OTHER_KEY = "na1.An0therKeyXy"
START, END = "2026-11-29T00:00:00Z", "2026-11-29T06:00:00Z"
Answer = collections.namedtuple("Answer", "status body headers")


def call(url, method="GET", body=None, key=None, headers=None):
    """The Answer to one request: status, body (parsed JSON, or bytes), headers."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if key is not None:
        request.add_header("Authorization", "Basic " + key)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, payload, answer_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, payload, answer_headers = error.code, error.read(), error.headers
    if answer_headers.get("Content-Type") == "application/json":
        payload = json.loads(payload)
    return Answer(status, payload, answer_headers)


def create_body(start=START, end=END):
    return {"segmentId": "everyone", "type": "TYPE_EVENT", "format": "FORMAT_JSON",
            "segmentTimeRange": {"start": "", "end": ""},
            "timeRange": {"start": start, "end": end}, "fields": ["IndvId", "EventStart"]}


def export(fake, key=KEY, start=START, end=END):
    """Create an export, poll it to COMPLETED, fetch its location and download it: the records."""
    download = call(location_of(fake, key, start, end))
    assert (download.status, download.headers["Content-Type"]) == (200, "application/gzip")
    return json.loads(gzip.decompress(download.body))


def location_of(fake, key=KEY, start=START, end=END):
    """Create an export, poll it to COMPLETED and fetch its results: the download's location."""
    created = call(fake.url + "/segments/v1/exports", "POST", create_body(start, end), key)
    assert created.status == 200, created.body
    operation = call(fake.url + "/operations/v1/" + created.body["operationId"], key=key)
    assert (operation.status, operation.body["type"], operation.body["state"]) == (
        200, "SEARCH_EXPORT", "COMPLETED")
    export_id = operation.body["results"]["searchExportId"]
    results = call(fake.url + "/search/v1/exports/%s/results" % export_id, key=key)
    assert results.status == 200
    return results.body["location"]


def test_an_export_holds_plausible_records_of_its_window(fake):
    records = export(fake)
    assert len(records) == 3
    for record in records:
        assert START <= record["EventStart"] < END
        assert isinstance(record["IndvId"], int) and record["IndvId"] == record["UserId"]
        assert record["PageUrl"].startswith("https://")
        assert record["user_plan_str"] == "pro"  # a custom variable: CustomVars in hauser
    assert export(fake) == records  # the same window of the same key: the same records
    assert export(fake, key=OTHER_KEY) != records


def test_without_authorization_the_api_answers_401(fake):
    answer = call(fake.url + "/segments/v1/exports", "POST", create_body())
    assert (answer.status, answer.body["code"]) == (401, "unauthenticated")
    answer = call(fake.url + "/operations/v1/op-000001", headers={"Authorization": "Bearer x"})
    assert answer.status == 401
    assert fake.stats()["totals"]["unauthenticated"] == 2


def test_operations_and_exports_belong_to_their_key(fake):
    created = call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY).body
    assert call(fake.url + "/operations/v1/" + created["operationId"], key=OTHER_KEY)[0] == 404
    assert call(fake.url + "/operations/v1/op-999999", key=KEY)[0] == 404
    assert call(fake.url + "/search/v1/exports/exp-000001/results", key=KEY)[0] == 404  # not done
    assert call(fake.url + "/_download/nope")[0] == 404
    assert call(fake.url + "/segments/v1/exports/", "POST", create_body(), KEY)[0] == 404


@pytest.mark.parametrize("body", [
    {"type": "TYPE_EVENT", "format": "FORMAT_CSV", "timeRange": {"start": START, "end": END}},
    {"type": "TYPE_EVENT", "format": "FORMAT_JSON", "timeRange": {"start": END, "end": START}},
    {"type": "TYPE_EVENT", "format": "FORMAT_JSON"},
    b"not json",
])
def test_a_malformed_create_request_is_400(fake, body):
    answer = call(fake.url + "/segments/v1/exports", "POST", body, KEY)
    assert (answer.status, answer.body["code"]) == (400, "error")


def test_a_key_told_a_status_answers_it_until_cleared(fake):
    fake.set_key(KEY, status=500)
    assert call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY)[0] == 500
    assert call(fake.url + "/segments/v1/exports", "POST", create_body(), OTHER_KEY)[0] == 200
    fake.clear_key(KEY)
    assert call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY)[0] == 200
    stats = fake.stats(KEY)
    assert stats["requests_by_status"] == {"500": 1, "200": 1}
    assert stats["exports_created"] == 1


def test_the_default_applies_to_keys_without_a_behaviour_and_empty_recovers_one(fake):
    fake.set_default(status=401)
    fake.set_key(KEY, {})
    assert call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY)[0] == 200
    assert call(fake.url + "/segments/v1/exports", "POST", create_body(), OTHER_KEY)[0] == 401
    fake.set_default({})
    assert call(fake.url + "/segments/v1/exports", "POST", create_body(), OTHER_KEY)[0] == 200


def test_429_comes_with_retry_after(fake):
    fake.set_key(KEY, status=429, retry_after=7)
    answer = call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY)
    assert (answer.status, answer.headers["Retry-After"]) == (429, "7")


def test_times_and_queues_work_request_by_request(fake):
    fake.set_key(KEY, status=503, times=2)
    statuses = [call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY)[0]
                for attempt in range(3)]
    assert statuses == [503, 503, 200]
    fake.set_key(KEY, [{"status": 500}, {}, {"status": 401, "times": 2}])
    statuses = [call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY)[0]
                for attempt in range(5)]
    assert statuses == [500, 200, 401, 401, 200]


def test_endpoints_limit_where_a_status_applies(fake):
    fake.set_key(KEY, status=500, endpoints=["download"], times=1)
    location = location_of(fake)
    assert call(location).status == 500
    assert call(location).status == 200  # its one time is used up


def test_polls_and_failed_operations(fake):
    fake.set_key(KEY, polls=2)
    created = call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY).body
    url = fake.url + "/operations/v1/" + created["operationId"]
    answers = [call(url, key=KEY).body for poll in range(3)]
    assert [(a["state"], a["estimatePctComplete"]) for a in answers] == [
        ("RUNNING", 0), ("RUNNING", 33), ("COMPLETED", 100)]
    fake.set_key(KEY, operation="FAILED", error_details="quota")
    created = call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY).body
    operation = call(fake.url + "/operations/v1/" + created["operationId"], key=KEY).body
    assert (operation["state"], operation["errorDetails"]) == ("FAILED", "quota")


def test_a_slow_key_answers_late(fake):
    fake.set_key(KEY, delay_seconds=0.5, endpoints=["create"])
    began = time.monotonic()
    assert call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY)[0] == 200
    assert time.monotonic() - began >= 0.5


@pytest.mark.parametrize("corrupt, check", [
    ("gzip", lambda payload: payload == b"this is not gzip"),
    ("json", lambda payload: not gzip.decompress(payload).startswith(b"[")),
    ("empty", lambda payload: payload == b""),
    ("truncated", lambda payload: payload[:2] == b"\x1f\x8b"),
])
def test_corrupt_downloads(fake, corrupt, check):
    fake.set_key(KEY, corrupt=corrupt)
    download = call(location_of(fake))
    assert download.status == 200 and check(download.body)


def test_location_base_points_the_download_elsewhere(fake):
    fake.set_key(KEY, location_base="http://192.0.2.10:8080/")
    assert location_of(fake).startswith("http://192.0.2.10:8080/_download/")


def test_statistics_of_a_key(fake, fake_module):
    fake.set_key(KEY, label="o-1A2B3C-na1")
    export(fake)
    call(fake.url + "/_download/nope", headers={"Authorization": "Basic " + KEY})
    stats = fake.stats(KEY)
    assert stats["key_id"] == fake_module.key_id(KEY) and stats["label"] == "o-1A2B3C-na1"
    assert stats["exports_created"] == 1
    assert stats["windows"] == [{"start": START, "end": END, "operation_id": "op-000001"}]
    assert stats["requests_by_endpoint"] == {"create": 1, "operation": 1, "results": 1,
                                             "download": 1}
    assert stats["requests_by_status"] == {"200": 4}
    assert (stats["downloads"], stats["records_served"]) == (1, 3)
    assert stats["downloads_with_authorization"] == 0
    last = datetime.datetime.fromisoformat(stats["last_request"].replace("Z", "+00:00"))
    assert abs((datetime.datetime.now(datetime.timezone.utc) - last).total_seconds()) < 10
    assert stats["last_create_body"] == create_body()
    assert "Authorization" not in stats["last_headers"]
    everything = fake.stats()
    assert set(everything["keys"]) == {fake_module.key_id(KEY)}
    assert everything["totals"]["exports_created"] == 1
    assert KEY not in json.dumps(everything)


def test_a_download_with_authorization_is_counted(fake):
    call(location_of(fake), key=KEY)
    assert fake.stats(KEY)["downloads_with_authorization"] == 1


def test_reset_forgets_everything(fake):
    fake.set_default(status=500)
    export_status = call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY)[0]
    assert export_status == 500
    fake.reset()
    assert fake.stats() == {"keys": {}, "default": {}, "totals": {
        "requests": 0, "unauthenticated": 0, "control": 1, "keys": 0, "exports_created": 0}}
    assert call(fake.url + "/segments/v1/exports", "POST", create_body(), KEY)[0] == 200


@pytest.mark.parametrize("behaviour, message", [
    ({"stauts": 500}, "unknown behaviour field 'stauts'"),
    ({"status": "500"}, "behaviour field 'status' has the wrong type"),
    ({"status": 1000}, "status must be an HTTP status code"),
    ({"endpoints": ["everything"]}, "endpoints are among create, operation, results, download"),
    ({"operation": "DONE"}, "operation is FAILED or RUNNING"),
    ({"corrupt": "bits"}, "corrupt is one of gzip, json, truncated, empty"),
    ([{"times": True}], "behaviour field 'times' has the wrong type"),
    ("500", "a behaviour is a JSON object"),
])
def test_the_control_api_refuses_a_bad_behaviour(fake, behaviour, message):
    with pytest.raises(ValueError, match="400") as raised:
        fake.set_key(KEY, behaviour)
    assert message in str(raised.value)
    assert KEY not in str(raised.value)


def test_the_control_api_knows_its_paths(fake):
    assert call(fake.url + "/_control/health")[:2] == (200, {"ok": True})
    assert call(fake.url + "/_control/nothing")[0] == 404


def test_serving_refuses_addresses_off_loopback(fake_module):
    with pytest.raises(ValueError, match="only 127.0.0.0/8"):
        fake_module.make_server(bind="0.0.0.0")


def _start_cli(fake_module, tmp_path, *extra):
    port_file = tmp_path / "port"
    process = subprocess.Popen(
        [sys.executable, fake_module.__file__, "--port", "0", "--port-file", str(port_file),
         *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = process.stdout.readline().strip()
    assert port.isdigit(), process.stderr.read()
    assert port_file.read_text() == port + "\n"
    return process, fake_module.Control("http://127.0.0.1:" + port)


def _stop_cli(process):
    process.terminate()
    return process.communicate(timeout=5)[1]


def test_the_command_line_serves_logs_without_keys_and_keeps_its_state(fake_module, tmp_path):
    state_dir = tmp_path / "state"
    process, control = _start_cli(fake_module, tmp_path, "--state-dir", str(state_dir))
    try:
        control.set_key(KEY, label="o-1A2B3C-na1")
        export(control)
        export(control, key=OTHER_KEY)
        control.set_key(OTHER_KEY, status=401)
    finally:
        stderr = _stop_cli(process)
    assert "POST create key=o-1A2B3C-na1 -> 200" in stderr
    assert "POST create key=%s -> 200" % fake_module.key_id(OTHER_KEY) in stderr
    assert "control key %s" % fake_module.key_id(KEY) in stderr
    state = (state_dir / "state.json").read_text()
    for text in (stderr, state):
        for key in (KEY, OTHER_KEY):
            assert key not in text and key.split(".", 1)[1][:8] not in text
    # A new server on the same state: the statistics and behaviours are still there.
    process, control = _start_cli(fake_module, tmp_path, "--state-dir", str(state_dir))
    try:
        assert control.stats(KEY)["exports_created"] == 1
        assert call(control.url + "/segments/v1/exports", "POST", create_body(), OTHER_KEY)[0] == 401
    finally:
        _stop_cli(process)


def test_the_command_line_refuses_addresses_off_loopback(fake_module):
    result = subprocess.run([sys.executable, fake_module.__file__, "--port", "0", "--bind",
                             "0.0.0.0"], capture_output=True, text=True, timeout=10, check=False)
    assert result.returncode == 2 and "only 127.0.0.0/8" in result.stderr


def test_the_default_takes_no_times_nor_label(fake):
    for behaviour in ({"status": 500, "times": 1}, {"label": "x"}):
        with pytest.raises(ValueError, match="the default takes neither times nor label"):
            fake.set_default(behaviour)
