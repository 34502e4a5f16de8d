"""hauser's config.Config struct, and how BurntSushi/toml v0.3.1 fills it from a TOML document.

Keys match field names case-insensitively and unknown keys are ignored; a value of the wrong type
fails with the decoder's message. The result is a dict per struct, holding every field (Go zero
values for the missing ones); durations are int nanoseconds, times are datetime or None."""

import datetime

from go_duration import DurationError, parse_duration

from standin.goruntime import Fatal

STRING, INT, BOOL, DURATION, TIME = "string", "integer", "boolean", "duration", "time.Time"


class Struct:
    def __init__(self, go_name, fields):
        self.go_name = go_name
        self.fields = dict(fields)


class SliceOf:
    def __init__(self, element):
        self.element = element


HEADER = Struct("config.Header", [("Key", STRING), ("Value", STRING)])
# Fields tagged `toml:"-"` (StorageConfig.FilePrefix, RedshiftConfig.S3Region) are not decoded.
CONFIG = Struct("config.Config", [
    ("Warehouse", STRING),
    ("Provider", STRING),
    ("FsApiToken", STRING),
    ("ExportDuration", DURATION),
    ("ExportDelay", DURATION),
    ("AdditionalHttpHeader", SliceOf(HEADER)),
    ("Backoff", DURATION),
    ("BackoffStepsMax", INT),
    ("CheckInterval", DURATION),
    ("TmpDir", STRING),
    ("ListExportLimit", INT),
    ("GroupFilesByDay", BOOL),
    ("SaveAsJson", BOOL),
    ("StorageOnly", BOOL),
    ("StartTime", TIME),
    ("SegmentId", STRING),
    ("IncludeMobileAppsFields", BOOL),
    ("ApiURL", STRING),
    ("FilePrefix", STRING),
    ("S3", Struct("config.S3Config", [
        ("Bucket", STRING), ("Region", STRING), ("Timeout", DURATION), ("S3Only", BOOL)])),
    ("Redshift", Struct("config.RedshiftConfig", [
        ("Host", STRING), ("Port", STRING), ("DB", STRING), ("User", STRING),
        ("Password", STRING), ("ExportTable", STRING), ("SyncTable", STRING),
        ("DatabaseSchema", STRING), ("Credentials", STRING), ("VarCharMax", INT)])),
    ("GCS", Struct("config.GCSConfig", [("Bucket", STRING), ("GCSOnly", BOOL)])),
    ("BigQuery", Struct("config.BigQueryConfig", [
        ("Project", STRING), ("Dataset", STRING), ("ExportTable", STRING),
        ("SyncTable", STRING), ("PartitionExpiration", DURATION)])),
    ("Local", Struct("config.LocalConfig", [
        ("SaveDir", STRING), ("StartTime", TIME), ("UseStartTime", BOOL)])),
])

_ZERO = {STRING: "", INT: 0, BOOL: False, DURATION: 0, TIME: None}


def decode(kind, value, current=None):
    """The Go value of kind that the decoder makes of a TOML value, or Fatal with its message.

    A struct is filled in over its current value: tables whose names differ only in case
    (`[gcs]` and `[GCS]`) both land in the same struct."""
    if isinstance(kind, Struct):
        return _decode_struct(kind, value, current or _zero(kind))
    if isinstance(kind, SliceOf):
        if not isinstance(value, list):
            raise _bad_type(value, "slice")
        return [decode(kind.element, item) for item in value]
    if kind == DURATION:
        return _decode_duration(value)
    if not _PRIMITIVE_TESTS[kind](value):
        raise _bad_type(value, kind)
    if kind == TIME and not isinstance(value, datetime.datetime):
        return datetime.datetime.combine(value, datetime.time())
    return value


def _zero(kind):
    if isinstance(kind, Struct):
        return {name: _zero(field) for name, field in kind.fields.items()}
    if isinstance(kind, SliceOf):
        return []
    return _ZERO[kind]


def _decode_struct(kind, table, result):
    if not isinstance(table, dict):
        raise Fatal("toml: type mismatch for %s: expected table but found %s"
                    % (kind.go_name, _go_type(table)))
    for key, value in table.items():
        name = _field_name(kind, key)
        if name is not None:
            result[name] = decode(kind.fields[name], value, result[name])
    return result


def _field_name(kind, key):
    if key in kind.fields:
        return key
    for name in kind.fields:
        if _equal_fold(name, key):
            return name
    return None


def _equal_fold(left, right):
    """Go's strings.EqualFold, rune by rune (so the Kelvin sign matches k, but not sharp s and ss)."""
    return len(left) == len(right) and all(map(_same_fold, left, right))


def _same_fold(left, right):
    if left == right:
        return True
    folded = left.casefold()
    return len(folded) == 1 and folded == right.casefold()


def _decode_duration(value):
    """Duration implements encoding.TextUnmarshaler: any primitive goes through ParseDuration."""
    try:
        return parse_duration(_as_text(value))
    except DurationError as error:
        raise Fatal(str(error)) from None


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "%d" % value
    if isinstance(value, float):
        return "%f" % value
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.date):
        return _rfc3339(value)
    raise _bad_type(value, "primitive (string-like)")


def _rfc3339(value):
    """time.Time.MarshalText: RFC 3339 with nanoseconds; TOML local times are in time.Local."""
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time())
    offset = value.utcoffset()
    if offset is None:
        offset = datetime.datetime.now().astimezone().utcoffset()
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (
        value.year, value.month, value.day, value.hour, value.minute, value.second)
    if value.microsecond:
        text += (".%06d" % value.microsecond).rstrip("0")
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return text + "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)


_PRIMITIVE_TESTS = {
    STRING: lambda value: isinstance(value, str),
    INT: lambda value: isinstance(value, int) and not isinstance(value, bool),
    BOOL: lambda value: isinstance(value, bool),
    TIME: lambda value: isinstance(value, datetime.date),
}


def _bad_type(value, go_kind):
    return Fatal("toml: cannot load TOML value of type %s into a Go %s" % (_go_type(value), go_kind))


def _go_type(value):
    """The %T of the decoder's Go value for a TOML value."""
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return "[]map[string]interface {}"
    for python_type, go_type in _GO_TYPES:
        if isinstance(value, python_type):
            return go_type
    return type(value).__name__


_GO_TYPES = (
    (bool, "bool"),
    (int, "int64"),
    (float, "float64"),
    (str, "string"),
    (datetime.date, "time.Time"),
    (list, "[]interface {}"),
    (dict, "map[string]interface {}"),
)
