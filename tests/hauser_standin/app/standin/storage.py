"""Where hauser 1.5.1 keeps exports and its sync point (warehouse/localdisk.go, warehouse.go's
SyncViaStorageMixin; gcs.go, s3.go, bigquery.go and redshift.go for the cloud).

local: as hauser. The sync point is the file SaveDir/<FilePrefix>/.sync.hauser, holding the
window's end as RFC 3339 in UTC ("2026-11-29T06:00:00Z", no newline), rewritten in place (created
or truncated, then written: not atomic, as in hauser). It is read back from SaveDir/.sync.hauser
whatever the FilePrefix (LocalDisk.ReadFile ignores the name it is given), so with a FilePrefix
hauser never finds its sync point again, and neither does the stand-in.

gcp and aws (DEVIATION): the stand-in reaches no cloud service. Every call to GCS, S3, BigQuery or
Redshift fails, after network.UNREACHABLE_SECONDS, with an error marked "stand-in:" that hauser's
own wrapping then prefixes (e.g. `failed to create sync file reader: stand-in: ...`). The first
such call is the sync point's read at the start of each cycle, so an export is never created, and
every cycle goes `failed to process exports: ...` and through the backoff."""

import os

from standin import gotime, network
from standin.goruntime import GoError, log, os_error

SYNC_FILE = ".sync.hauser"


def make_storage(conf):
    """core.MakeStorage (start-up has already checked what it checks)."""
    provider = conf["Provider"]
    if provider == "local":
        return LocalDisk(conf["Local"]["SaveDir"], conf["FilePrefix"])
    return CloudStorage("gcs" if provider == "gcp" else "s3", conf["FilePrefix"])


def make_database(conf):
    """core.MakeDatabase: none when storage only."""
    if conf["StorageOnly"]:
        return None
    if conf["Provider"] == "gcp":
        return BigQuery(conf["BigQuery"])
    return Redshift(conf["Redshift"])


def go_join(*parts):
    """filepath.Join: the non-empty parts joined by /, then cleaned (filepath.Clean)."""
    joined = "/".join(part for part in parts if part)
    return _clean(joined) if joined else ""


def _clean(path):
    rooted = path.startswith("/")
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part != ".." or not rooted:
            parts.append(part)
    cleaned = ("/" if rooted else "") + "/".join(parts)
    return cleaned or "."


class LocalDisk:
    """warehouse.LocalDisk, with SyncViaStorageMixin's sync point."""

    def __init__(self, save_dir, file_prefix):
        self.save_dir, self.file_prefix = save_dir, file_prefix

    def last_sync_point(self):
        """SyncViaStorageMixin.LastSyncPoint: the time in the sync file; None when there is none."""
        path = go_join(self.save_dir, SYNC_FILE)  # ReadFile's name, whatever it was asked for
        try:
            os.stat(path)
        except FileNotFoundError:
            return None
        except OSError:
            pass
        try:
            with open(path, "rb") as sync_file:
                data = sync_file.read()
        except IsADirectoryError as error:  # Go opens a directory, then fails to read it
            raise GoError("failed to read sync file: %s" % os_error("read", path, error)) from None
        except OSError as error:
            raise GoError("failed to create sync file reader: %s"
                          % os_error("open", path, error)) from None
        return gotime.parse_rfc3339(data.decode("utf-8", "surrogateescape"))

    def save_sync_point(self, end):
        """SyncViaStorageMixin.SaveSyncPoint: SaveFile(<prefix>/.sync.hauser, end in UTC)."""
        text = gotime.format_rfc3339(gotime.utc(end))
        self.save_file(go_join(self.file_prefix, SYNC_FILE), _Bytes(text.encode()))

    def save_file(self, name, stream):
        """LocalDisk.SaveFile: MkdirAll the directory, os.Create the file, copy the stream in."""
        path = go_join(self.save_dir, name)
        directory = os.path.dirname(path) or "."
        if os.path.exists(directory) and not os.path.isdir(directory):
            raise GoError("mkdir %s: not a directory" % directory)
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as error:
            raise GoError(os_error("mkdir", error.filename or directory, error)) from None
        try:
            target = open(path, "wb")  # pylint: disable=consider-using-with
        except OSError as error:
            raise GoError(os_error("open", path, error)) from None
        with target:
            try:
                target.write(stream.data)
            except OSError as error:
                raise GoError(os_error("write", path, error)) from None
            if stream.error is not None:
                raise stream.error
        return path


class _Bytes:
    """A bytes.Reader, as a Stream: its bytes, and a clean end."""

    def __init__(self, data):
        self.data, self.error = data, None


class CloudStorage:
    """GCSStorage ("gcs") or S3Storage ("s3"), out of the stand-in's reach."""

    def __init__(self, kind, file_prefix):
        self.kind, self.file_prefix = kind, file_prefix
        self.service = "Google Cloud Storage" if kind == "gcs" else "Amazon S3"

    def last_sync_point(self):
        """SyncViaStorageMixin.LastSyncPoint over ReadFile, which fails."""
        error = _out_of_reach(self.service)
        if self.kind == "s3":
            error = "failed to read s3 file %s: %s" % (go_join(self.file_prefix, SYNC_FILE), error)
        raise GoError("failed to create sync file reader: %s" % error)

    def save_sync_point(self, end):
        raise GoError(_out_of_reach(self.service))

    def save_file(self, name, stream):
        error = _out_of_reach(self.service)
        raise GoError("failed to save file to GCS: %s" % error if self.kind == "gcs" else error)

    def delete_file(self, name):
        raise GoError(_out_of_reach(self.service))


class BigQuery:
    """warehouse.BigQuery, out of the stand-in's reach."""

    def __init__(self, settings):
        self.settings = settings

    def last_sync_point(self):
        raise GoError(_out_of_reach("BigQuery"))

    def load_to_warehouse(self, storage_ref, start):
        raise GoError(_out_of_reach("BigQuery"))

    def save_sync_point(self, end):
        raise GoError(_out_of_reach("BigQuery"))


class Redshift:
    """warehouse.Redshift, out of the stand-in's reach: LastSyncPoint logs its connection error."""

    def __init__(self, settings):
        self.settings = settings

    def last_sync_point(self):
        error = "redshift ping error : (%s)" % _out_of_reach(
            "Redshift at %s:%s" % (self.settings["Host"], self.settings["Port"]))
        log("Couldn't connect to DB: %s" % error)
        raise GoError(error)

    def load_to_warehouse(self, storage_ref, start):
        raise GoError(_out_of_reach("Redshift"))

    def save_sync_point(self, end):
        raise GoError(_out_of_reach("Redshift"))


def _out_of_reach(service):
    network.wait_unreachable()
    return "stand-in: %s is out of reach, the stand-in talks to nothing but loopback" % service
