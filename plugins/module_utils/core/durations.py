# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Go duration strings, as Go's time.ParseDuration reads them.

hauser decodes every duration setting (ExportDelay, ExportDuration, Backoff, ...) with
time.ParseDuration, so this module accepts and rejects exactly what hauser does. The test
stand-in of hauser carries it too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    u"\u00b5s": MICROSECOND,  # micro sign
    u"\u03bcs": MICROSECOND,  # Greek small letter mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}

_MAX = 1 << 63


class DurationError(ValueError):
    """A string that Go's time.ParseDuration rejects: str() is Go's message, which quotes the
    string; reason says what is wrong without it (for messages that must not show a value)."""

    def __init__(self, message, reason='not a Go duration such as "10m"'):
        ValueError.__init__(self, message)
        self.reason = reason


def _go_quote(text):
    """Quote as Go's time package does: every byte of a control or non-ASCII character as \\xHH."""
    out = []
    for character in text:
        if ord(character) < 0x20 or ord(character) >= 0x80:
            out.extend("\\x%02x" % byte for byte in character.encode("utf-8", "surrogatepass"))
        elif character in '"\\':
            out.append("\\" + character)
        else:
            out.append(character)
    return '"' + "".join(out) + '"'


def _invalid(orig):
    return DurationError("time: invalid duration " + _go_quote(orig))


def parse_duration(text):
    """Return the duration in nanoseconds, or raise DurationError with Go's message. Linear in
    the length of text (a position moves along it; nothing is copied)."""
    if not isinstance(text, str):
        raise DurationError("time: invalid duration: not a string", 'a Go duration such as "10m" expected')
    orig = text
    end = len(text)
    pos = 0
    neg = False
    if text and text[0] in "-+":
        neg = text[0] == "-"
        pos = 1
    if text[pos:] == "0":
        return 0
    if pos == end:
        raise _invalid(orig)
    total = 0
    while pos < end:
        if not (text[pos] == "." or "0" <= text[pos] <= "9"):
            raise _invalid(orig)
        i = pos
        while i < end and "0" <= text[i] <= "9":
            i += 1
        pre = i > pos
        first = pos
        while first < i - 1 and text[first] == "0":
            first += 1
        if i - first > 19:  # more than 1 << 63 can hold; also keeps int() within its digit limit
            raise _invalid(orig)
        whole = int(text[first:i]) if i > pos else 0
        if whole > _MAX:
            raise _invalid(orig)
        pos = i
        frac, scale, post = 0, 1.0, False
        if pos < end and text[pos] == ".":
            pos += 1
            j = pos
            overflow = False
            while j < end and "0" <= text[j] <= "9":
                if not overflow:
                    if frac > (_MAX - 1) // 10:
                        overflow = True
                    else:
                        frac = frac * 10 + int(text[j])
                        scale *= 10
                j += 1
            post = j > pos
            pos = j
        if not pre and not post:
            raise _invalid(orig)
        k = pos
        while k < end and not (text[k] == "." or "0" <= text[k] <= "9"):
            k += 1
        if k == pos:
            raise DurationError("time: missing unit in duration " + _go_quote(orig),
                                'a number without its unit (a Go duration such as "10m" expected)')
        unit_name = text[pos:k]
        pos = k
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise DurationError(
                "time: unknown unit " + _go_quote(unit_name) + " in duration " + _go_quote(orig),
                'an unknown unit (ns, us, ms, s, m and h are known)')
        if whole > _MAX // unit:
            raise _invalid(orig)
        value = whole * unit
        if frac > 0:
            value += int(float(frac) * (float(unit) / scale))
            if value > _MAX:
                raise _invalid(orig)
        total += value
        if total > _MAX:
            raise _invalid(orig)
    if neg:
        return -total
    if total > _MAX - 1:
        raise _invalid(orig)
    return total


def format_duration(nanoseconds):
    """Render a duration as a compact Go duration string: 24h, 24h10m, 1h30m15s, 0s."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    rest = abs(nanoseconds)
    parts = []
    for name, size in (("h", HOUR), ("m", MINUTE), ("s", SECOND), ("ms", MILLISECOND),
                       ("us", MICROSECOND), ("ns", NANOSECOND)):
        count, rest = divmod(rest, size)
        if count:
            parts.append("%d%s" % (count, name))
    return sign + "".join(parts)
