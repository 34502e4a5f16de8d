"""hauser 1.5.1's log as the tests write it: Go's log prefix and Go's time.Time String().

Shared by the unit tests of core/exports.py, core/monitoring.py and the filters that show their
results, so that one place says what a line of hauser looks like.
"""

import calendar
import time


def utc(text):
    """The Unix time of "YYYY-MM-DD HH:MM:SS" in UTC."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


def go_utc(seconds):
    """Go's time.Time String() of a whole-second UTC time, as hauser prints a window's bounds."""
    return time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(seconds))


def logged(seconds, message):
    """message as Go's log prints it at that Unix time: the local date and time first."""
    return time.strftime("%Y/%m/%d %H:%M:%S ", time.localtime(seconds)) + message
