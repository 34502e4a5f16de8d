"""Go's time.Time as hauser's export loop uses it: Now, UTC, Add, Sub, After, Truncate, Unix, the
String form hauser logs, RFC 3339 formatting, and time.Parse with the RFC3339 layout, its messages
included.

A Time is a Unix time in nanoseconds, a location and, for a time read from time.Now, a monotonic
clock reading. The location decides how String prints it:

    UTC                       2026-11-29 06:00:00 +0000 UTC
    Local (time.Now, and a    2026-11-29 07:00:00.123456789 +0100 CET m=+3600.000000001
      parsed offset that is
      Local's at that time)
    a fixed zone (a parsed    2026-11-29 08:00:00 +0200 +0200
      offset that is not)

Go's monotonic readings count from the start of its process; the stand-in's count from the start
of its main (goruntime.MONOTONIC_START)."""

import time

from standin.goruntime import MONOTONIC_START, GoError

SECOND = 10**9
_DAY = 86400
# Go's zero time, January 1 of year 1 UTC, in Unix nanoseconds. Truncate counts from it.
ZERO = -62135596800 * SECOND
LOCAL = "Local"
RFC3339 = "2006-01-02T15:04:05Z07:00"
_INT64_MAX = (1 << 63) - 1
_INT64_MIN = -(1 << 63)
# Go keeps a monotonic reading only in times it can pack: 2^33 seconds from 1885 on.
_PACKED_FIRST_SECOND = -2682374400
_PACKED_LAST_SECOND = _PACKED_FIRST_SECOND + (1 << 33) - 1


class Time:
    """A time.Time: ns since the Unix epoch, loc (None for UTC, LOCAL, or a FixedZone's
    (name, offset in seconds)), and mono (ns on the monotonic clock, or None)."""

    __slots__ = ("ns", "loc", "mono")

    def __init__(self, ns, loc=None, mono=None):
        self.ns, self.loc, self.mono = ns, loc, mono

    def __repr__(self):
        return "gotime.Time(%s)" % string(self)


def now():
    """time.Now(): local, with a monotonic reading."""
    return Time(time.time_ns(), LOCAL, time.monotonic_ns() - MONOTONIC_START)


def now_utc():
    """time.Now().UTC(), internal/service.go's getNow: UTC() drops the monotonic reading."""
    return Time(time.time_ns())


def from_unix_ns(ns):
    return Time(ns)


def utc(moment):
    return Time(moment.ns)


def add(moment, duration):
    """Time.Add: the monotonic reading moves too, unless it would overflow or leave Go's packed range."""
    result = Time(moment.ns + duration, moment.loc)
    if moment.mono is not None:
        mono = moment.mono + duration
        second = result.ns // SECOND
        if _INT64_MIN <= mono <= _INT64_MAX and _PACKED_FIRST_SECOND <= second <= _PACKED_LAST_SECOND:
            result.mono = mono
    return result


def sub(moment, other):
    """Time.Sub: by the monotonic clock when both have a reading, saturated to a Duration."""
    if moment.mono is not None and other.mono is not None:
        difference = moment.mono - other.mono
    else:
        difference = moment.ns - other.ns
    return max(_INT64_MIN, min(_INT64_MAX, difference))


def after(moment, other):
    if moment.mono is not None and other.mono is not None:
        return moment.mono > other.mono
    return moment.ns > other.ns


def truncate(moment, duration):
    """Time.Truncate: round down to a multiple of duration since Go's zero time; drops mono."""
    if duration <= 0:
        return Time(moment.ns, moment.loc)
    return Time(moment.ns - (moment.ns - ZERO) % duration, moment.loc)


def is_zero(moment):
    return moment.ns == ZERO


def unix(moment):
    return moment.ns // SECOND


def string(moment):
    """Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST", and " m=±s.nnnnnnnnn" with a
    monotonic reading."""
    name, offset = _zone(moment)
    seconds, nanoseconds = divmod(moment.ns, SECOND)
    text = _date(seconds + offset, " ") + _fraction(nanoseconds, 9)
    text += " " + _numeric_zone(offset, "") + " " + (name or _numeric_zone(offset, ""))
    if moment.mono is not None:
        text += _monotonic(moment.mono)
    return text


def format_rfc3339(moment, fraction_digits=0):
    """Time.Format(time.RFC3339); fraction_digits=6 gives RFC3339Micro's trimmed ".999999"."""
    offset = _zone(moment)[1]
    seconds, nanoseconds = divmod(moment.ns, SECOND)
    text = _date(seconds + offset, "T")
    if fraction_digits:
        text += _fraction(nanoseconds // 10 ** (9 - fraction_digits), fraction_digits)
    return text + ("Z" if offset == 0 else _numeric_zone(offset, ":"))


def parse_rfc3339(value):
    """time.Parse(time.RFC3339, value), or GoError with time.ParseError's text."""
    return _Parser(value).parse()


class _Parser:
    """time.parse for the RFC3339 layout, chunk by chunk as Go walks it."""

    def __init__(self, value):
        self.value = self.rest = value

    def parse(self):
        year = self._year()
        self._skip("-")
        month = self._number("01", fixed=True, limit=(1, 12), what="month")
        self._skip("-")
        day = self._number("02", fixed=True)
        self._skip("T")
        hour = self._number("15", fixed=False, limit=(0, 23), what="hour")
        self._skip(":")
        minute = self._number("04", fixed=True, limit=(0, 59), what="minute")
        self._skip(":")
        second = self._number("05", fixed=True, limit=(0, 59), what="second")
        nanosecond = self._fraction()
        offset = self._zone()
        if self.rest:
            raise self._message(": extra text: " + quote(self.rest))
        if day < 1 or day > _days_in(month, year):
            raise self._message(": day out of range")
        seconds = _days_from_civil(year, month, day) * _DAY + hour * 3600 + minute * 60 + second
        return _located(seconds * SECOND + nanosecond, offset)

    def _year(self):
        if len(self.rest) < 4 or not _is_digits(self.rest[:4]):
            raise self._cannot_parse(self.rest, "2006")
        year, self.rest = int(self.rest[:4]), self.rest[4:]
        return year

    def _skip(self, literal):
        if not self.rest.startswith(literal):
            raise self._cannot_parse(self.rest, literal)
        self.rest = self.rest[len(literal):]

    def _number(self, layout_element, fixed, limit=None, what=None):
        number, rest = _getnum(self.rest, fixed)
        if number is None:
            raise self._cannot_parse(self.rest, layout_element)
        if limit and not limit[0] <= number <= limit[1]:
            raise self._message(": %s out of range" % what)
        self.rest = rest
        return number

    def _fraction(self):
        """A fraction of a second the layout does not ask for is taken all the same."""
        rest = self.rest
        if len(rest) < 2 or rest[0] not in ".," or not _is_digits(rest[1]):
            return 0
        end = 2
        while end < len(rest) and _is_digits(rest[end]):
            end += 1
        digits = rest[1:min(end, 10)]
        self.rest = rest[end:]
        return int(digits) * 10 ** (9 - len(digits))

    def _zone(self):
        """Z07:00: Z, or ±hh:mm; None for UTC, else the offset in seconds."""
        rest = self.rest
        if rest.startswith("Z"):
            self.rest = rest[1:]
            return None
        if len(rest) < 6 or rest[3] != ":":
            raise self._cannot_parse(rest, "Z07:00")
        hours = _getnum(rest[1:3], True)[0]
        minutes = _getnum(rest[4:6], True)[0] if hours is not None else None
        if hours is not None and hours > 24:
            raise self._message(": time zone offset hour out of range")
        if minutes is not None and minutes > 60:
            raise self._message(": time zone offset minute out of range")
        if minutes is None or rest[0] not in "+-":
            raise self._cannot_parse(rest, "Z07:00")
        self.rest = rest[6:]
        offset = (hours * 60 + minutes) * 60
        return -offset if rest[0] == "-" else offset

    def _cannot_parse(self, value_element, layout_element):
        return GoError("parsing time %s as %s: cannot parse %s as %s" % (
            quote(self.value), quote(RFC3339), quote(value_element), quote(layout_element)))

    def _message(self, message):
        return GoError("parsing time " + quote(self.value) + message)


def _located(utc_ns, offset):
    """Where time.Parse puts a parsed time: UTC for Z; Local if the offset is Local's then; else
    a FixedZone without a name."""
    if offset is None:
        return Time(utc_ns)
    ns = utc_ns - offset * SECOND
    if _local_zone(ns // SECOND)[1] == offset:
        return Time(ns, LOCAL)
    return Time(ns, ("", offset))


def quote(text):
    """The time package's own quoting: every byte of a control or non-ASCII character as \\xhh."""
    out = []
    for char in text:
        if char < " " or char >= "\x80":
            out.extend("\\x%02x" % byte for byte in char.encode("utf-8", "surrogatepass"))
        elif char in '"\\':
            out.append("\\" + char)
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _getnum(text, fixed):
    """time.getnum: one or two digits (exactly two when fixed); (None, text) when not there."""
    if not text or not _is_digits(text[0]):
        return None, text
    if len(text) < 2 or not _is_digits(text[1]):
        return (None, text) if fixed else (int(text[0]), text[1:])
    return int(text[:2]), text[2:]


def _is_digits(text):
    return all("0" <= char <= "9" for char in text)


def _zone(moment):
    if moment.loc is None:
        return "UTC", 0
    if moment.loc == LOCAL:
        return _local_zone(moment.ns // SECOND)
    return moment.loc


def _local_zone(second):
    """time.Local's abbreviation and offset at a Unix second, from the C library's tz data."""
    try:
        local = time.localtime(second)
    except (OverflowError, OSError, ValueError):
        return "UTC", 0
    return local.tm_zone, local.tm_gmtoff


def _date(local_seconds, separator):
    days, rest = divmod(local_seconds, _DAY)
    year, month, day = _civil_from_days(days)
    year_text = "%04d" % year if year >= 0 else "-%04d" % -year
    return "%s-%02d-%02d%s%02d:%02d:%02d" % (
        year_text, month, day, separator, rest // 3600, rest // 60 % 60, rest % 60)


def _fraction(value, digits):
    """Go's .999… fraction: trailing zeros trimmed, nothing at all for zero."""
    if not value:
        return ""
    return ("." + str(value).rjust(digits, "0")).rstrip("0")


def _numeric_zone(offset, colon):
    """-0700 (colon "") or -07:00 (colon ":"); seconds of an offset are not shown."""
    minutes = abs(offset) // 60
    sign = "-" if offset < 0 else "+"
    return "%s%02d%s%02d" % (sign, minutes // 60, colon, minutes % 60)


def _monotonic(mono):
    sign = "-" if mono < 0 else "+"
    seconds, nanoseconds = divmod(abs(mono), SECOND)
    return " m=%s%d.%09d" % (sign, seconds, nanoseconds)


def _days_in(month, year):
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _civil_from_days(days):
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524
                   - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + (3 if month_index < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day
