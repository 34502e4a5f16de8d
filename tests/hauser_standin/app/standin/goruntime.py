"""What a Go program shows the world: its `log` lines, its fatal errors and panics, its errors
from the os package and time.Duration's String() form."""

import sys
import time

from go_duration import HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND


class Fatal(Exception):
    """An error hauser ends with through log.Fatal: logged, exit status 1."""


class Panic(Exception):
    """A Go runtime panic: its message and a goroutine header on stderr, exit status 2."""

    def __init__(self, message, function):
        super().__init__(message)
        self.function = function


def log(message):
    """Write one line like Go's default logger: local date and time, then the message."""
    stamp = time.strftime("%Y/%m/%d %H:%M:%S")
    sys.stderr.write(stamp + " " + message.rstrip("\n") + "\n")
    sys.stderr.flush()


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
