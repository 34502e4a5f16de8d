"""hauser 1.5.1's FullStory API client (client/client.go, export.go, operations.go, transport.go):
create an export, poll its operation, fetch the results' location and download it.

Every API request carries `Authorization: Basic <FsApiToken>` and each AdditionalHttpHeader
(set after it, so one named Authorization wins, as in hauser); the download carries neither.
An answer other than 200 is a StatusError, worded as hauser words it."""

import re

from go_duration import SECOND

from standin import gojson, gotime, network
from standin.goruntime import GoError, go_string

_INT64 = 1 << 63
_CREATE_RESPONSE = gojson.Struct("client.createSegmentResponse", [("operationId", "string")])
_RESULTS_RESPONSE = gojson.Struct("client.getExportResultsResponse", [("location", "string")])
_OPERATION_RESPONSE = gojson.Struct("client.operationsResponse", [
    ("type", "string"),
    ("results", gojson.Struct("client.exportOperationResults", [
        ("expires", "string"), ("searchExportId", "string")])),
    ("state", "string"),
    ("errorDetails", "string"),
    ("estimatePctComplete", "int"),
])


class StatusError(GoError):
    """client.StatusError: the round trip worked, the status was not 200 OK."""

    def __init__(self, response):
        self.status_code = response.status_code
        self.retry_after = _retry_after(response)
        super().__init__("fullstory: response error: Status:%s, StatusCode:%d, RetryAfter:%s" % (
            response.status, response.status_code, go_string(self.retry_after)))


class Client:
    """client.Client, made by client.NewClient(config)."""

    def __init__(self, conf):
        self.api_url = conf["ApiURL"]
        self.segment_id = conf["SegmentId"]
        self.headers = {"Authorization": "Basic " + conf["FsApiToken"]}
        for header in conf["AdditionalHttpHeader"]:
            self.headers[canonical_header_key(header["Key"])] = header["Value"]

    def create_export(self, start, end, fields):
        """Client.CreateExport: POST /segments/v1/exports; the operation id."""
        params = gojson.Fields([
            ("segmentId", self.segment_id),
            ("type", "TYPE_EVENT"),
            ("format", "FORMAT_JSON"),
            ("segmentTimeRange", gojson.Fields([("start", ""), ("end", "")])),
            ("timeRange", gojson.Fields([
                ("start", gotime.format_rfc3339(gotime.utc(start))),
                ("end", gotime.format_rfc3339(gotime.utc(end)))])),
            ("fields", list(fields)),
        ])
        body = gojson.marshal(params).encode("utf-8")
        response = self._do("POST", "%s/segments/v1/exports" % self.api_url, body)
        return _decode(response, _CREATE_RESPONSE)["operationId"]

    def get_export_progress(self, operation_id):
        """Client.GetExportProgress: (estimated percent, search export id once COMPLETED)."""
        operation = self._get_export_operation(operation_id)
        if operation["state"] == "COMPLETED":
            return operation["estimatePctComplete"], operation["results"]["searchExportId"]
        return operation["estimatePctComplete"], ""

    def _get_export_operation(self, operation_id):
        """Client.getExportOperation: GET /operations/v1/<id>; a FAILED one is an ExportError."""
        response = self._do("GET", "%s/operations/v1/%s" % (self.api_url, operation_id))
        operation = _decode(response, _OPERATION_RESPONSE)
        if operation["type"] != "SEARCH_EXPORT":
            raise GoError("operation id does not correspond to an export")
        if operation["state"] == "FAILED":
            raise GoError("failed to complete export: %s" % operation["errorDetails"])
        return operation

    def get_export(self, export_id):
        """Client.GetExport: GET /search/v1/exports/<id>/results for the location, then a plain
        GET of it (no Authorization: the URL carries its own). The download's Response."""
        response = self._do("GET", "%s/search/v1/exports/%s/results" % (self.api_url, export_id))
        location = _decode(response, _RESULTS_RESPONSE)["location"]
        download = network.request("GET", location)
        if download.status_code != 200:
            raise StatusError(download)
        return download

    def _do(self, method, url, body=None):
        """Client.doReq: the request with the API headers; a StatusError unless 200."""
        response = network.request(method, url, self.headers, body)
        if response.status_code != 200:
            raise StatusError(response)
        return response


def _decode(response, kind):
    text = response.body.decode("utf-8", "replace")
    return gojson.decode(text, kind, response.body_error)


def _retry_after(response):
    """getRetryAfter: the Retry-After header as whole seconds (0 unless strconv.Atoi reads it),
    times time.Second, wrapping as Go's int64 multiplication does."""
    header = (response.headers.get("Retry-After") or "").strip()
    if not re.fullmatch(r"[+-]?[0-9]+", header) or not -_INT64 <= int(header) < _INT64:
        return 0
    value = int(header) * SECOND % (2 * _INT64)
    return value - 2 * _INT64 if value >= _INT64 else value


def canonical_header_key(key):
    """textproto.CanonicalMIMEHeaderKey: X-Custom-Header; a key with a character that may not
    be in a header name is left as it is."""
    if not key or any(char not in network.TOKEN_CHARS for char in key):
        return key
    out, upper = [], True
    for char in key:
        out.append(char.upper() if upper else char.lower())
        upper = char == "-"
    return "".join(out)
