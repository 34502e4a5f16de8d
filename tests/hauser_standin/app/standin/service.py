"""internal/service.go of hauser 1.5.1: HauserService's export loop (Run, ProcessNext,
BackoffOnError, LoadBundles), with its log lines:

    Creating export for <sync point> to <window end>
    Export progress: <n>%                       (each poll, 5 s apart, until COMPLETED)
    Fetching export for operation id <operation id>
    Waiting until <time.Now() + wait> to start next export
    failed to process exports: <error>
    Pausing; will retry operation in <Backoff x 2^step>
    Reached max retries; exiting                 (log.Fatal: exit status 1)

Which cycle does what is hauser's: the sync point (or StartTime) starts the window, its end is
the start plus ExportDuration truncated to ExportDuration, and a window is exported once its end
is ExportDelay in the past; a failure pauses Backoff x 2^step (step reset by any cycle without
an error) and ends hauser at the step BackoffStepsMax."""

import os

from go_duration import SECOND

from standin import client, gotime, schema, storage
from standin.goruntime import GoError, exit_fatal, go_string, log, os_error, sleep

# progressPollDuration: the pause between two polls of an export's operation.
PROGRESS_POLL_SECONDS = 5
_UINT64 = 1 << 64


def run(conf):
    """HauserService.Run: ProcessNext for ever; wait when caught up, back off on errors."""
    service = HauserService(conf)
    service.init()
    while True:
        try:
            wait, error = service.process_next(), None
        except GoError as failure:
            wait, error = 0, failure
        if service.backoff_on_error(error):
            continue
        if wait == 0:
            continue
        until = gotime.add(gotime.now(), wait)
        log("Waiting until %s to start next export" % gotime.string(until))
        sleep(wait)


class HauserService:
    """internal.HauserService, as core.NewHauser makes it from the config."""

    def __init__(self, conf):
        self.conf = conf
        self.client = client.Client(conf)
        self.storage = storage.make_storage(conf)
        self.database = storage.make_database(conf)
        self.schema = schema.make_schema(conf["IncludeMobileAppsFields"])
        self.backoff_step = 0

    def init(self):
        """HauserService.Init: InitDatabase unless storage only.

        DEVIATION: hauser creates or checks its export table here and exits (log.Fatal) when the
        database cannot be reached. The stand-in, which reaches no database, goes on as if the
        table were there: its first database call, the sync point's read, then fails in the
        loop instead, so that a stand-in with BigQuery or Redshift stays up, backing off."""

    def backoff_on_error(self, error):
        """HauserService.BackoffOnError: whether the cycle failed (after pausing if so)."""
        if error is None:
            self.backoff_step = 0
            return False
        log("failed to process exports: %s" % error)
        if self.backoff_step == self.conf["BackoffStepsMax"] % _UINT64:
            exit_fatal("Reached max retries; exiting")
        factor = _int64(1 << self.backoff_step) if self.backoff_step < 64 else 0
        duration = _int64(self.conf["Backoff"] * factor)
        log("Pausing; will retry operation in %s" % go_string(duration))
        sleep(duration)
        self.backoff_step = (self.backoff_step + 1) % _UINT64
        return True

    def process_next(self):
        """HauserService.ProcessNext: export the next window; or the time until it is ready."""
        last = self._last_sync_point()
        if last is None or gotime.is_zero(last):
            last = gotime.from_unix_ns(self.conf["StartTime"])
        duration, delay = self.conf["ExportDuration"], self.conf["ExportDelay"]
        end = gotime.utc(gotime.truncate(gotime.add(last, duration), duration))
        if gotime.after(end, gotime.add(gotime.now_utc(), -delay)):
            return gotime.sub(gotime.add(end, delay), gotime.now_utc())
        log("Creating export for %s to %s" % (gotime.string(last), gotime.string(end)))
        operation_id = self.client.create_export(last, end, schema.full_story_fields(self.schema))
        export_id = self._wait_for_export(operation_id)
        log("Fetching export for operation id %s" % operation_id)
        download = self.client.get_export(export_id)
        # Loaded once there is a download: most failing cycles never get this far.
        from standin import bundle  # pylint: disable=import-outside-toplevel
        stream = bundle.new_gzip_reader(download.body, download.body_error)
        if self.conf["SaveAsJson"]:
            self.storage.save_file("%s%d.json" % (self.conf["FilePrefix"], gotime.unix(last)),
                                   stream)
            self.storage.save_sync_point(end)
        else:
            self._export_csv(stream, last, end)
        return 0

    def _last_sync_point(self):
        """HauserService.lastSyncPoint: from the storage when storage only, else the database."""
        if self.conf["StorageOnly"]:
            return self.storage.last_sync_point()
        return self.database.last_sync_point()

    def _wait_for_export(self, operation_id):
        """ProcessNext's polling loop: the search export id once the operation has one."""
        while True:
            progress, export_id = self.client.get_export_progress(operation_id)
            log("Export progress: %d%%" % progress)
            if export_id:
                return export_id
            sleep(int(PROGRESS_POLL_SECONDS * SECOND))

    def _export_csv(self, stream, last, end):
        """ProcessNext's CSV half: TmpDir/<FilePrefix><unix start>.csv, loaded, then removed."""
        from standin import bundle  # pylint: disable=import-outside-toplevel
        name = "%s%d.csv" % (self.conf["FilePrefix"], gotime.unix(last))
        filename = storage.go_join(self.conf["TmpDir"], name)
        directory = os.path.dirname(filename) or "."
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as error:
            log("failed to create subdirectories")
            raise GoError(os_error("mkdir", error.filename or directory, error)) from None
        try:
            out = open(filename, "w", encoding="utf-8", newline="")  # pylint: disable=consider-using-with
        except OSError as error:
            message = os_error("open", filename, error)
            log("Failed to create tmp csv file: %s" % message)
            raise GoError(message) from None
        try:
            with out:
                bundle.write_bundle_to_csv(stream, self.schema, out)
            self._load_bundles(filename, last, end)
        finally:
            _remove(filename)

    def _load_bundles(self, filename, start, end):
        """HauserService.LoadBundles: save the file to the storage (local: copy it into SaveDir),
        then save the sync point, in the storage when storage only, else load it into the
        database and save the sync point there."""
        from standin import bundle  # pylint: disable=import-outside-toplevel
        try:
            with open(filename, "rb") as source:
                data = source.read()
        except OSError as error:
            raise GoError(os_error("open", filename, error)) from None
        object_name = self.conf["FilePrefix"] + filename.rsplit("/", 1)[-1]
        try:
            self.storage.save_file(object_name, bundle.Stream(data))
        except GoError as error:
            raise GoError("failed to save file: %s" % error) from None
        if self.conf["StorageOnly"]:
            self.storage.save_sync_point(end)
            return
        try:
            self._load_to_warehouse(filename, object_name, start, end)
        finally:
            try:
                self.storage.delete_file(object_name)
            except GoError:
                pass

    def _load_to_warehouse(self, filename, object_name, start, end):
        try:
            self.database.load_to_warehouse(object_name, start)
        except GoError as error:
            log("Failed to load file '%s' to warehouse: %s" % (filename, error))
            raise
        try:
            self.database.save_sync_point(end)
        except GoError as error:
            log("Failed to save sync point for %s: %s" % (gotime.string(end), error))
            raise


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _int64(value):
    value %= _UINT64
    return value - _UINT64 if value >= _UINT64 // 2 else value
