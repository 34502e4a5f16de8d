"""What hauser 1.5.1 does between loading its config and finishing its first export, and
where that fails.

hauser itself checks little here: an unknown provider, a missing local SaveDir, unreadable Google
credentials and an empty Redshift DatabaseSchema end it at start with its own messages (kept as
they are). Everything else a provider needs, hauser only finds missing when its first API, SQL
or storage call fails; the stand-in makes no such calls, so it checks those settings at start,
in the order hauser would reach them, and fails with a message marked "stand-in:"."""

import contextlib
import os
import re

from standin.goruntime import Fatal, Panic, go_quote, go_string, os_error

_SYNC_FILE = ".sync.hauser"
_SCHEMA_MISSING = (
    "DatabaseSchema definition missing from Redshift configuration. More information: "
    "https://github.com/fullstorydev/hauser/blob/master/Redshift.md#database-schema-configuration"
)
_SQL_NAME = re.compile(r"[A-Za-z0-9_]+")
# lib/pq reads an unquoted connection-string value up to whitespace, with backslash escapes,
# and a value that begins with a quote as a quoted one.
_UNSAFE_IN_DSN = re.compile(r"[\s\\]|^'")
_VALUE_TO_STRING = "github.com/fullstorydev/hauser/warehouse.(*Redshift).ValueToString"


def start(conf):
    """Fail (Fatal or Panic) where hauser would with this config; create what it creates."""
    _make_storage(conf)
    if not conf["StorageOnly"]:
        _init_database(conf)
        _first_export_rows(conf)
    _check_storage(conf)
    _make_tmp_dir(conf["TmpDir"])


def _make_storage(conf):
    """core.MakeStorage."""
    provider = conf["Provider"]
    if provider == "local":
        _open_local_disk(conf["Local"])
    elif provider == "gcp":
        _check_google_credentials()
    elif provider != "aws":
        raise Fatal("unknown provider type: " + provider)


def _open_local_disk(local):
    """warehouse.NewLocalDisk: only a missing SaveDir fails; UseStartTime drops the sync file."""
    save_dir = local["SaveDir"]
    try:
        os.stat(save_dir)
    except FileNotFoundError:
        raise Fatal("Cannot find folder %s, make sure it exists" % save_dir) from None
    except OSError:
        pass
    if local["UseStartTime"]:
        with contextlib.suppress(OSError):
            os.remove(os.path.join(save_dir, _SYNC_FILE))


def _check_google_credentials():
    """storage.NewClient fails when GOOGLE_APPLICATION_CREDENTIALS names an unreadable file."""
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not path:
        return
    try:
        with open(path, "rb") as credentials:
            credentials.read()
    except OSError:
        raise Fatal("Failed to create GCS client") from None


def _init_database(conf):
    """HauserService.Init: connect to the database and create or read the export table."""
    if conf["Provider"] == "aws":
        redshift = conf["Redshift"]
        if not redshift["DatabaseSchema"]:
            raise Fatal(_SCHEMA_MISSING)
        for key in ("Host", "Port", "DB", "User", "Password"):
            _require("redshift", key, redshift[key], "cannot connect to Redshift")
            _check_dsn_value(key, redshift[key])
        _check_tables("redshift", redshift, ())
        _require("redshift", "Credentials", redshift["Credentials"],
                 "cannot COPY exports into Redshift")
    elif conf["Provider"] == "gcp":
        bigquery = conf["BigQuery"]
        _require("bigquery", "Project", bigquery["Project"], "cannot connect to BigQuery")
        _check_tables("bigquery", bigquery, ("Dataset",))


def _first_export_rows(conf):
    """Redshift.ValueToString cuts every value to VarCharMax-1 bytes: a slice panic when <= 0."""
    var_char_max = conf["Redshift"]["VarCharMax"]
    if conf["Provider"] == "aws" and var_char_max <= 0:
        raise Panic("runtime error: slice bounds out of range [:%d]" % (var_char_max - 1),
                    _VALUE_TO_STRING)


def _check_storage(conf):
    """The first storage call: the sync point read (storage only) or the upload of an export."""
    if conf["Provider"] == "gcp":
        _require("gcs", "Bucket", conf["GCS"]["Bucket"], "fails on its first GCS call")
    elif conf["Provider"] == "aws":
        s3 = conf["S3"]
        _require("s3", "Bucket", s3["Bucket"], "fails on its first S3 call")
        _require("s3", "Region", s3["Region"], "fails on its first S3 call")
        if s3["Timeout"] <= 0:
            raise Fatal("stand-in: [s3] Timeout is %s, it must be more than 0s; hauser 1.5.1 "
                        "times out every S3 call" % go_string(s3["Timeout"]))


def _make_tmp_dir(tmp_dir):
    if not tmp_dir:
        return
    try:
        os.makedirs(tmp_dir, exist_ok=True)
    except OSError as error:
        raise Fatal(os_error("mkdir", error.filename or tmp_dir, error)) from None


def _require(section, key, value, consequence):
    if not value:
        raise Fatal("stand-in: [%s] %s is not set; hauser 1.5.1 %s" % (section, key, consequence))


def _check_dsn_value(key, value):
    if _UNSAFE_IN_DSN.search(value):
        raise Fatal("stand-in: [redshift] %s holds whitespace, a backslash or a leading quote; "
                    "hauser 1.5.1 puts it unquoted into its connection string" % key)


def _check_tables(section, settings, other_names):
    """Names hauser writes unquoted into SQL: they must be set and plain identifiers."""
    for key in other_names + ("ExportTable", "SyncTable"):
        name = settings[key]
        _require(section, key, name, "cannot find or create its tables")
        if not _SQL_NAME.fullmatch(name):
            raise Fatal("stand-in: [%s] %s %s is not made of letters, digits and underscores; "
                        "hauser 1.5.1 puts it unquoted into SQL" % (section, key, go_quote(name)))
