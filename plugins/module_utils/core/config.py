# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hauser 1.5.1's config: its keys, the checks it makes at start, and the TOML it reads.

hauser_config() gives one org's config as a dictionary of hauser keys; to_toml() writes it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import difflib
import json
import math
import re

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.durations import (
    HOUR,
    MINUTE,
    DurationError,
    parse_duration,
)

# hauser 1.5.1's config keys by section, in hauser's spelling; hauser matches them
# case-insensitively and silently ignores any other key, so a typo must be caught here.
KNOWN_KEYS = {
    None: (
        "FsApiToken", "Provider", "Warehouse", "ExportDuration", "ExportDelay", "StartTime",
        "Backoff", "BackoffStepsMax", "TmpDir", "SaveAsJson", "StorageOnly", "FilePrefix",
        "SegmentId", "ApiURL", "AdditionalHttpHeader", "IncludeMobileAppsFields",
    ),
    "gcs": ("Bucket", "GCSOnly"),
    "bigquery": ("Project", "Dataset", "ExportTable", "SyncTable", "PartitionExpiration"),
    "s3": ("Bucket", "Region", "Timeout", "S3Only"),
    "redshift": (
        "Host", "Port", "DB", "User", "Password", "ExportTable", "SyncTable", "DatabaseSchema",
        "Credentials", "VarCharMax",
    ),
    "local": ("SaveDir", "StartTime", "UseStartTime"),
}
# The kind of each key's value in hauser's Config struct, by section; any other key is a string
# (AdditionalHttpHeader, an array of tables, apart).
_BOOLEAN_KEYS = {None: ("SaveAsJson", "StorageOnly", "IncludeMobileAppsFields"), "gcs": ("GCSOnly",),
                 "s3": ("S3Only",), "local": ("UseStartTime",)}
_INTEGER_KEYS = {None: ("BackoffStepsMax",), "redshift": ("VarCharMax",)}
_DURATION_KEYS = {None: ("ExportDuration", "ExportDelay", "Backoff"), "s3": ("Timeout",),
                  "bigquery": ("PartitionExpiration",)}
_TIME_KEYS = {None: ("StartTime",), "local": ("StartTime",)}
HEADER_TABLE = "AdditionalHttpHeader"
_DAY = 24 * HOUR


class ConfigError(ValueError):
    """Settings that would give hauser a config it refuses, or a template that fails."""


def table_suffix(org_id):
    """Org ids may hold '-', which is not valid in an unquoted SQL table name."""
    return org_id.replace("-", "_")


def check_table_names(orgs, source):
    """Two org ids differing only in '-' versus '_', or in case (Redshift folds unquoted names to
    lower case), would share one table pair."""
    seen = {}
    for org in orgs:
        suffix = table_suffix(org["org_id"])
        if suffix.lower() in seen:
            raise ConfigError(
                "%s: the org ids of lines %d and %d give the same table names "
                "(fs_export_%s); hauser would mix their data" % (source, seen[suffix.lower()], org["line"], suffix)
            )
        seen[suffix.lower()] = org["line"]


MAX_STRING = 4096  # characters in one string of a config (as settings.MAX_TEXT)

# A key like one of hauser's (a typo) is named in a refusal, with the key it may mean; anything
# else may be a value pasted in the wrong place, and is not shown.
_KEY_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
# Keys this collection sets for each org, never from multi_hauser_config_extra.
_PER_ORG_KEYS = {"FsApiToken": "each org's key comes from the key file"}


def _canonical_key(section, key, where):
    place = "[%s] " % section if section else ""
    _check_text(key, where, "a key")
    for known in KNOWN_KEYS.get(section, ()):
        if known.lower() == key.lower():
            if section is None and known in _PER_ORG_KEYS:
                raise ConfigError("%s: %s cannot be set here (%s)" % (where, known, _PER_ORG_KEYS[known]))
            return known
    known = dict((name.lower(), name) for name in KNOWN_KEYS.get(section, ())
                 if not (section is None and name in _PER_ORG_KEYS))
    if section is None:
        known.update((name, name) for name in KNOWN_KEYS if name)
    elsewhere = ["[%s]" % other if other else "the top level" for other in sorted(KNOWN_KEYS, key=str)
                 if other != section and any(name.lower() == key.lower() for name in KNOWN_KEYS[other])]
    if elsewhere:
        raise ConfigError("%s: %s%s is not a key of %s (hauser would silently ignore it; it is one of %s)" % (
            where, place, key, "[%s]" % section if section else "the top level", " and ".join(elsewhere)))
    close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.6) if _KEY_LIKE.fullmatch(key) else []
    if not close:
        raise ConfigError("%s: %sa key (not shown) is not a hauser 1.5.1 config key (hauser would silently ignore "
                          "it)" % (where, place))
    raise ConfigError("%s: %s%s is not a hauser 1.5.1 config key (hauser would silently ignore it; did you mean "
                      "%s?)" % (where, place, key, known[close[0]]))


def _check_text(value, where, what):
    """Strings go into config.toml: valid UTF-8, no NUL, bounded (never shown)."""
    if not isinstance(value, str):
        return
    if len(value) > MAX_STRING:
        raise ConfigError("%s: %s is longer than %d characters" % (where, what, MAX_STRING))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError("%s is not valid: not valid UTF-8 (in %s)" % (where, what)) from None
    if "\x00" in value:
        raise ConfigError("%s is not valid: a NUL character (in %s)" % (where, what))


def _as_time(value):
    """A date-time for StartTime (hauser's TOML reader takes a TOML date-time, not a string): a
    date or time as it is, an RFC 3339 string read as one; None for anything else."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value
    if isinstance(value, str) and len(value) <= 64:
        try:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    return None


def _check_value(section, key, value, where):
    """That value is of the kind hauser reads for key (never showing the value)."""
    name = "%s%s" % ("[%s] " % section if section else "", key)
    for text in [value] + ([part for item in value if isinstance(item, dict) for part in item.values()]
                           if isinstance(value, (list, tuple)) else []):
        _check_text(text, where, "the value of %s" % name)
    if key in _BOOLEAN_KEYS.get(section, ()):
        if not isinstance(value, bool):
            raise ConfigError("%s: %s must be true or false" % (where, name))
    elif key in _INTEGER_KEYS.get(section, ()):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 31:
            raise ConfigError("%s: %s must be a whole number of 0 or more" % (where, name))
    elif key in _DURATION_KEYS.get(section, ()):
        try:
            nanoseconds = parse_duration(value)
        except DurationError as exc:
            raise ConfigError("%s: %s is not valid: %s" % (where, name, exc.reason)) from None
        if nanoseconds < 0 and key not in ("ExportDuration", "ExportDelay"):  # those: their own rules below
            raise ConfigError("%s: %s must not be negative" % (where, name))
    elif key in _TIME_KEYS.get(section, ()):
        if _as_time(value) is None or isinstance(value, str):
            raise ConfigError("%s: %s must be a date-time such as 2026-01-01T00:00:00Z" % (where, name))
    elif section is None and key == HEADER_TABLE:
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(item, dict) and sorted(item) == ["Key", "Value"]
                and all(isinstance(part, str) for part in item.values()) for item in value):
            raise ConfigError("%s: %s must be a list of {Key, Value} strings" % (where, name))
    elif not isinstance(value, str):  # hauser's TOML reader takes no number for a string
        raise ConfigError("%s: %s must be a string" % (where, name))


def check_extra(extra, where="multi_hauser_config_extra"):
    """User-given hauser keys (top-level keys, or a section as a dict), with hauser's own spelling
    and each value of the kind hauser reads; ConfigError names where and the key, never a value."""
    checked = {}
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and str(key).lower() in KNOWN_KEYS:
            section = str(key).lower()
            target = checked.setdefault(section, {})
            for sub_key, sub_value in value.items():
                canonical = _canonical_key(section, str(sub_key), where)
                sub_value = _as_time(sub_value) or sub_value if canonical in _TIME_KEYS.get(section, ()) else sub_value
                _check_value(section, canonical, sub_value, where)
                target[canonical] = sub_value
        elif str(key).lower() in KNOWN_KEYS:
            raise ConfigError("%s: [%s] must be a section: a dictionary of its keys" % (where, str(key).lower()))
        else:
            canonical = _canonical_key(None, str(key), where)
            if canonical in _TIME_KEYS[None]:
                value = _as_time(value) or value
            if canonical == HEADER_TABLE and isinstance(value, (list, tuple)):
                value = [dict((_canonical_header_key(part, where), item[part]) for part in item)
                         if isinstance(item, dict) else item for item in value]
            _check_value(None, canonical, value, where)
            checked[canonical] = value
    return checked


def _canonical_header_key(key, where):
    for known in ("Key", "Value"):
        if str(key).lower() == known.lower():
            return known
    raise ConfigError("%s: %s holds a key other than Key and Value" % (where, HEADER_TABLE))


def merge_extra(config, extra, where="multi_hauser_config_extra"):
    """Merge user-given keys into a config: top-level keys, or a section as a dict."""
    merged = dict((k, dict(v) if isinstance(v, dict) else v) for k, v in config.items())
    for key, value in check_extra(extra, where).items():
        if isinstance(value, dict):
            merged.setdefault(key, {}).update(value)
        else:
            merged[key] = value
    return merged


def _duration(config, key, where):
    try:
        return parse_duration(config[key])
    except DurationError as exc:
        raise ConfigError("%s: %s is not valid: %s" % (where, key, exc.reason)) from None
    except (KeyError, TypeError):
        raise ConfigError("%s: %s must be a Go duration such as \"10m\"" % (where, key)) from None


def check_config(config, where):
    """hauser 1.5.1's own checks, at load and at start, of the values this collection sets or
    lets users set: every value of its kind, then the rules that tie keys together."""
    for section, keys in [(None, config)] + [(name, value) for name, value in config.items() if isinstance(value, dict)]:
        for key, value in keys.items():
            if not isinstance(value, dict):
                _check_value(section, key, value, where)
    if "ExportDuration" in config:
        duration = _duration(config, "ExportDuration", where)
        if not 15 * MINUTE <= duration <= _DAY or _DAY % duration:
            raise ConfigError(
                "%s: ExportDuration must be between 15m and 24h and an even fraction of 24 hours" % where
            )
    if "ExportDelay" in config and _duration(config, "ExportDelay", where) < HOUR:
        raise ConfigError("%s: ExportDelay must be at least 1h" % where)
    provider = config.get("Provider")
    if config.get("SaveAsJson") and not (provider == "local" or config.get("StorageOnly")):
        raise ConfigError("%s: SaveAsJson needs the local provider or StorageOnly (hauser loads no JSON "
                          "into a database)" % where)
    if provider == "aws":
        if "Timeout" in config.get("s3", {}) and parse_duration(config["s3"]["Timeout"]) <= 0:
            raise ConfigError("%s: [s3] Timeout must be more than 0s (hauser times out every S3 call)" % where)
        if not config.get("StorageOnly") and config.get("redshift", {}).get("VarCharMax", 1) <= 0:
            raise ConfigError("%s: [redshift] VarCharMax must be more than 0 (hauser panics)" % where)


def hauser_config(org, settings, layout):
    """The config of one org, as an ordered dict of hauser keys (sections as nested dicts)."""
    suffix = table_suffix(org["org_id"])
    provider = settings["provider"]
    config = {
        "FsApiToken": org["api_key"],
        "Provider": provider,
        "ExportDuration": settings["export_duration"],
        "ExportDelay": org["export_delay"],
        "Backoff": settings["backoff"],
        "BackoffStepsMax": settings["backoff_steps_max"],
        "TmpDir": layout.tmp_dir(org["org_id"]),
    }
    if provider == "local":
        config["local"] = {"SaveDir": layout.save_dir(org["org_id"])}
    else:
        # Orgs share a bucket: each keeps its files (and its StorageOnly sync point) apart.
        config["FilePrefix"] = org["org_id"] + "/"
        config["StorageOnly"] = bool(settings["storage_only"])
    if provider == "gcp":
        config["gcs"] = {"Bucket": settings["gcs_bucket"]}
        config["bigquery"] = {
            "Project": settings["bigquery_project"],
            "Dataset": settings["bigquery_dataset"],
            "ExportTable": "fs_export_" + suffix,
            "SyncTable": "fs_sync_" + suffix,
        }
    elif provider == "aws":
        config["s3"] = {
            "Bucket": settings["s3_bucket"],
            "Region": settings["s3_region"],
            "Timeout": settings["s3_timeout"],
        }
        config["redshift"] = {
            "Host": settings["redshift_host"],
            "Port": str(settings["redshift_port"]),
            "DB": settings["redshift_db"],
            "User": settings["redshift_user"],
            "Password": settings["redshift_password"],
            "ExportTable": "fs_export_" + suffix,
            "SyncTable": "fs_sync_" + suffix,
            "DatabaseSchema": settings["redshift_database_schema"],
            "Credentials": settings["redshift_credentials"],
            "VarCharMax": settings["redshift_varchar_max"],
        }
    config = merge_extra(config, settings.get("config_extra"))
    check_config(config, "org on line %d" % org["line"])
    return config


# TOML basic strings: these escapes plus \uXXXX for every other control character.
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_value(value):
    """A TOML literal for a string, bool, int, float or list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise ConfigError("cannot write %r as a TOML value" % value)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()  # an offset date-time, or a local one without a zone
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        out = []
        for character in value:
            if character in _TOML_ESCAPES:
                out.append(_TOML_ESCAPES[character])
            elif ord(character) < 0x20 or ord(character) == 0x7F:
                out.append("\\u%04X" % ord(character))
            else:
                out.append(character)
        return '"' + "".join(out) + '"'
    if isinstance(value, (list, tuple)) and not any(isinstance(item, dict) for item in value):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise ConfigError("cannot write a %s as a TOML value" % type(value).__name__)


def to_toml(config):
    """A config dict as TOML: top-level keys, then arrays of tables, then sections."""
    lines, tables, sections = [], [], []
    for key, value in config.items():
        if isinstance(value, dict):
            sections.append((key, value))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(item, dict) for item in value):
            tables.append((key, value))
        else:
            lines.append("%s = %s" % (key, toml_value(value)))
    for key, items in tables:
        for item in items:
            lines.extend(["", "[[%s]]" % key])
            lines.extend("%s = %s" % (k, toml_value(v)) for k, v in item.items())
    for key, values in sections:
        lines.extend(["", "[%s]" % key])
        lines.extend("%s = %s" % (k, toml_value(v)) for k, v in values.items())
    return "\n".join(lines) + "\n"
