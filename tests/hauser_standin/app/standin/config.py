"""config.Load and config.Validate of hauser 1.5.1 (config/config.go), with their messages."""

import datetime
import errno
import os
import time

from go_duration import HOUR, MINUTE

from standin import decode, tomlsource
from standin.goruntime import Fatal, go_string, log, os_error

TOKEN_ENV = "FULLSTORY_API_TOKEN"
MIN_EXPORT_DURATION = 15 * MINUTE
MAX_EXPORT_DURATION = 24 * HOUR
DEFAULT_EXPORT_DURATION = HOUR
DEFAULT_EXPORT_DELAY = 24 * HOUR
DEFAULT_API_URL = "https://api.fullstory.com"
DEFAULT_SEGMENT_ID = "everyone"
DEFAULT_START_TIME_AGO = 30 * 24 * HOUR
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_GO_ZERO_TIME = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)
_WAREHOUSE_PROVIDERS = {"local": "local", "redshift": "aws", "bigquery": "gcp"}
_LOCAL_WARNING = (
    'WARNING: The "local" provider only supports "StorageOnly = true".\n'
    "          This value will be ignored in your configuration file."
)


def load(path):
    """The validated config in the file at path, or Fatal with hauser's message."""
    conf = decode.decode(decode.CONFIG, tomlsource.parse(_read(path)))
    if os.environ.get(TOKEN_ENV):
        conf["FsApiToken"] = os.environ[TOKEN_ENV]
    validate(conf)
    return conf


def token_source(conf):
    """Where the API token came from, to log instead of the token."""
    if os.environ.get(TOKEN_ENV):
        return TOKEN_ENV
    return "FsApiToken" if conf["FsApiToken"] else "empty"


def _read(path):
    try:
        with open(path, "rb") as config_file:
            data = config_file.read()
    except OSError as error:
        # Go opens a directory fine and fails on reading it.
        operation = "read" if error.errno == errno.EISDIR else "open"
        raise Fatal(os_error(operation, path, error)) from None
    return data.decode("utf-8", errors="replace")


def validate(conf):
    """config.Validate: fill in defaults, log what it logs, fail where it fails.

    StartTime becomes Unix nanoseconds (UTC), now - 30 days when not set."""
    conf["ApiURL"] = conf["ApiURL"] or DEFAULT_API_URL
    conf["SegmentId"] = conf["SegmentId"] or DEFAULT_SEGMENT_ID
    _validate_export_duration(conf)
    if conf["ExportDelay"] == 0:
        conf["ExportDelay"] = DEFAULT_EXPORT_DELAY
    elif conf["ExportDelay"] < HOUR:
        raise Fatal('"ExportDelay" configuration value is too small. Minimum value is 1 hour')
    if _is_zero_time(conf["StartTime"]):
        log('INFO: "StartTime" not set in config. Defaulting to 30 days in the past')
        conf["StartTime"] = time.time_ns() - DEFAULT_START_TIME_AGO
    else:
        conf["StartTime"] = _unix_ns(conf["StartTime"])
    if conf["BigQuery"]["PartitionExpiration"] < 0:
        raise Fatal("BigQuery expiration value must be positive")
    if conf["Provider"] == "":
        _provider_from_warehouse(conf)
    _apply_provider(conf)
    if conf["SaveAsJson"] and not (conf["Provider"] == "local" or conf["StorageOnly"]):
        raise Fatal("hauser doesn't currently support loading JSON into a database. "
                    "Ensure SaveAsJson = false in .toml file")


def _validate_export_duration(conf):
    duration = conf["ExportDuration"]
    if duration == 0:
        if conf["GroupFilesByDay"]:
            log('WARNING: The "GroupFilesByDay" option is deprecated. '
                'Please use "ExportDuration" instead.')
            conf["ExportDuration"] = 24 * HOUR
        else:
            log('INFO: "ExportDuration" not set in config. Defaulting to 1 hour')
            conf["ExportDuration"] = DEFAULT_EXPORT_DURATION
    elif not MIN_EXPORT_DURATION <= duration <= MAX_EXPORT_DURATION:
        raise Fatal("ExportDuration '%s' out of range. The range of valid values is from %s to %s"
                    % (go_string(duration), go_string(MIN_EXPORT_DURATION),
                       go_string(MAX_EXPORT_DURATION)))
    elif (24 * HOUR) % duration:
        raise Fatal("ExportDuration must be an even fraction of 24 hours")


def _is_zero_time(value):
    return value is None or (value.tzinfo is not None and value == _GO_ZERO_TIME)


def _unix_ns(value):
    """A TOML datetime as Unix nanoseconds; one without an offset is in time.Local."""
    if value.tzinfo is None:
        try:
            value = value.astimezone()
        except (OverflowError, ValueError, OSError):
            value = value.replace(tzinfo=datetime.timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def _provider_from_warehouse(conf):
    warehouse = conf["Warehouse"]
    if warehouse not in _WAREHOUSE_PROVIDERS:
        if not warehouse:
            raise Fatal("warehouse type must be specified in configuration")
        raise Fatal("warehouse type '%s' unrecognized" % warehouse)
    conf["Provider"] = _WAREHOUSE_PROVIDERS[warehouse]
    log('WARNING: The "Warehouse" option is deprecated. Please use "Provider" instead.')
    conf["Warehouse"] = ""


def _apply_provider(conf):
    provider = conf["Provider"]
    if provider == "local":
        log(_LOCAL_WARNING)
        conf["StorageOnly"] = True
    elif provider == "aws":
        conf["StorageOnly"] = conf["StorageOnly"] or conf["S3"]["S3Only"]
    elif provider == "gcp":
        conf["StorageOnly"] = conf["StorageOnly"] or conf["GCS"]["GCSOnly"]
