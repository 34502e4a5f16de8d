"""What a Go program shows the world: its `log` lines, its fatal errors and panics, its errors
from the os package and time.Duration's String() form; and how it sleeps."""

import sys
import time

from go_duration import HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND

# Go's monotonic clock readings (the " m=+..." of a printed time.Now()) count from process start;
# the stand-in counts from the import of this module, the first thing its main does.
MONOTONIC_START = time.monotonic_ns() - 1
# Texts that never reach a log line (the API token): a safety net, see set_secret.
_SECRETS = []
# Never sleep longer than this at once (Python's sleep overflows where Go's does not).
_MAX_SLEEP_SECONDS = 86400


class Fatal(Exception):
    """An error hauser ends with through log.Fatal: logged, exit status 1."""


class GoError(Exception):
    """A Go error value: its text is exactly what Go's Error() method returns."""


class Panic(Exception):
    """A Go runtime panic: its message and a goroutine header on stderr, exit status 2."""

    def __init__(self, message, function):
        super().__init__(message)
        self.function = function


def log(message):
    """Write one line like Go's default logger: local date and time, then the message."""
    stamp = time.strftime("%Y/%m/%d %H:%M:%S")
    for secret in _SECRETS:
        message = message.replace(secret, "***")
    sys.stderr.write(stamp + " " + message.rstrip("\n") + "\n")
    sys.stderr.flush()


def set_secret(text):
    """Never let text (the API token) into a log line.

    hauser sends its token only in the Authorization header and never logs it; so does the stand-in.
    This is a second guard, for a token that a config also put into a URL (which hauser would log):
    a deviation from hauser only then. Tokens shorter than 8 characters are left alone, so that
    a test token of "x" does not blank every x."""
    if len(text) >= 8 and text not in _SECRETS:
        _SECRETS.append(text)


def sleep(nanoseconds):
    """time.Sleep: block without using the CPU; zero or negative returns at once.

    No signal handler is installed, so SIGTERM ends the process in the middle of a sleep, as it
    ends hauser."""
    deadline = time.monotonic_ns() + nanoseconds
    while True:
        remaining = deadline - time.monotonic_ns()
        if remaining <= 0:
            return
        time.sleep(min(remaining / SECOND, _MAX_SLEEP_SECONDS))


def exit_fatal(error):
    log(str(error))
    sys.exit(1)


def exit_panic(error):
    sys.stderr.write("panic: %s\n\ngoroutine 1 [running]:\n%s(...)\n" % (error, error.function))
    sys.stderr.flush()
    sys.exit(2)


def os_error(operation, path, error):
    """Go's *PathError text for an OSError, e.g. `open config.toml: no such file or directory`."""
    reason = error.strerror or str(error)
    return "%s %s: %s" % (operation, path, reason[:1].lower() + reason[1:])


def go_quote(text):
    """Go's %q of a string, for the printable text a config holds."""
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif char.isprintable():
            escaped.append(char)
        else:
            escaped.append(char.encode("unicode_escape").decode("ascii"))
    return '"' + "".join(escaped) + '"'


def go_string(nanoseconds):
    """time.Duration.String(): 24h10m0s, 1m30.5s, 1.5ms, 0s."""
    sign = "-" if nanoseconds < 0 else ""
    rest = abs(nanoseconds)
    if rest == 0:
        return "0s"
    if rest < MICROSECOND:
        return "%s%dns" % (sign, rest)
    if rest < MILLISECOND:
        return sign + _decimal(rest, MICROSECOND) + "\u00b5s"
    if rest < SECOND:
        return sign + _decimal(rest, MILLISECOND) + "ms"
    text = _decimal(rest % MINUTE, SECOND) + "s"
    if rest >= MINUTE:
        text = "%dm" % (rest // MINUTE % 60) + text
    if rest >= HOUR:
        text = "%dh" % (rest // HOUR) + text
    return sign + text


def _decimal(value, unit):
    whole, fraction = divmod(value, unit)
    if not fraction:
        return str(whole)
    digits = len(str(unit)) - 1
    return "%d.%s" % (whole, str(fraction).rjust(digits, "0").rstrip("0"))
