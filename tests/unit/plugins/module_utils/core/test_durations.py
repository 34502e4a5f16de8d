import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.durations import (
    HOUR,
    MICROSECOND,
    MILLISECOND,
    MINUTE,
    NANOSECOND,
    SECOND,
    DurationError,
    format_duration,
    parse_duration,
)

MIN_GO_DURATION = -(1 << 63)
MAX_GO_DURATION = (1 << 63) - 1

# Go's own table: parseDurationTests in src/time/time_test.go.
GO_VALID = [
    ("0", 0),
    ("5s", 5 * SECOND),
    ("30s", 30 * SECOND),
    ("1478s", 1478 * SECOND),
    ("-5s", -5 * SECOND),
    ("+5s", 5 * SECOND),
    ("-0", 0),
    ("+0", 0),
    ("5.0s", 5 * SECOND),
    ("5.6s", 5 * SECOND + 600 * MILLISECOND),
    ("5.s", 5 * SECOND),
    (".5s", 500 * MILLISECOND),
    ("1.0s", 1 * SECOND),
    ("1.00s", 1 * SECOND),
    ("1.004s", 1 * SECOND + 4 * MILLISECOND),
    ("1.0040s", 1 * SECOND + 4 * MILLISECOND),
    ("100.00100s", 100 * SECOND + 1 * MILLISECOND),
    ("10ns", 10 * NANOSECOND),
    ("11us", 11 * MICROSECOND),
    (u"12\u00b5s", 12 * MICROSECOND),
    (u"12\u03bcs", 12 * MICROSECOND),
    ("13ms", 13 * MILLISECOND),
    ("14s", 14 * SECOND),
    ("15m", 15 * MINUTE),
    ("16h", 16 * HOUR),
    ("3h30m", 3 * HOUR + 30 * MINUTE),
    ("10.5s4m", 4 * MINUTE + 10 * SECOND + 500 * MILLISECOND),
    ("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400 * MILLISECOND)),
    ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6 * NANOSECOND),
    ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND),
    ("52763797000ns", 52763797000 * NANOSECOND),
    ("0.3333333333333333333h", 20 * MINUTE),
    ("9007199254740993ns", (1 << 53) + 1),
    ("9223372036854775807ns", MAX_GO_DURATION),
    ("9223372036854775.807us", MAX_GO_DURATION),
    ("9223372036s854ms775us807ns", MAX_GO_DURATION),
    ("-9223372036854775808ns", MIN_GO_DURATION),
    ("-9223372036854775.808us", MIN_GO_DURATION),
    ("-9223372036s854ms775us808ns", MIN_GO_DURATION),
    ("-2562047h47m16.854775808s", MIN_GO_DURATION),
    ("0.100000000000000000000h", 6 * MINUTE),
    ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827 * NANOSECOND),
    # hauser settings
    ("24h", 24 * HOUR),
    ("1440m", 24 * HOUR),
    ("24h10m", 24 * HOUR + 10 * MINUTE),
    ("6h", 6 * HOUR),
]


@pytest.mark.parametrize("text, nanoseconds", GO_VALID)
def test_parse_duration_accepts(text, nanoseconds):
    assert parse_duration(text) == nanoseconds


# Go's parseDurationErrorTests (those expressible as Python text), with the whole message Go gives.
GO_INVALID = [
    ("", 'time: invalid duration ""'),
    ("3", 'time: missing unit in duration "3"'),
    ("-", 'time: invalid duration "-"'),
    ("s", 'time: invalid duration "s"'),
    (".", 'time: invalid duration "."'),
    ("-.", 'time: invalid duration "-."'),
    (".s", 'time: invalid duration ".s"'),
    ("+.s", 'time: invalid duration "+.s"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("9223372036854775810ns", 'time: invalid duration "9223372036854775810ns"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
    ("-9223372036854775809ns", 'time: invalid duration "-9223372036854775809ns"'),
    ("9223372036854776us", 'time: invalid duration "9223372036854776us"'),
    ("3000000h", 'time: invalid duration "3000000h"'),
    ("9223372036854775.808us", 'time: invalid duration "9223372036854775.808us"'),
    ("9223372036854ms775us808ns", 'time: invalid duration "9223372036854ms775us808ns"'),
    # mistakes people make in hauser configs
    ("30", 'time: missing unit in duration "30"'),
    ("1 h", 'time: unknown unit " h" in duration "1 h"'),
    ("10 minutes", 'time: unknown unit " minutes" in duration "10 minutes"'),
    ("1H", 'time: unknown unit "H" in duration "1H"'),
    ("1h 30m", 'time: unknown unit "h " in duration "1h 30m"'),
    ("1,5h", 'time: unknown unit "," in duration "1,5h"'),
    (' "1h"', 'time: invalid duration " \\"1h\\""'),
    ("1h\\", 'time: unknown unit "h\\\\" in duration "1h\\\\"'),
]


@pytest.mark.parametrize("text, message", GO_INVALID)
def test_parse_duration_rejects_with_go_message(text, message):
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


GO_QUOTING = [
    # Go's quote() writes characters below space and non-ASCII ones as \x escapes of their UTF-8 bytes.
    (u"\ufffd", 'time: invalid duration "\\xef\\xbf\\xbd"'),
    (u"\ufffd hello \ufffd world", 'time: invalid duration "\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world"'),
    ("1d\n", 'time: unknown unit "d\\x0a" in duration "1d\\x0a"'),
    (u"1\u00e9", 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'),
]


@pytest.mark.parametrize("text, message", GO_QUOTING)
def test_parse_duration_quotes_like_go(text, message):
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


def test_parse_duration_many_leading_zeros():
    assert parse_duration("0" * 5000 + "1s") == SECOND


@pytest.mark.parametrize("value", [None, 60, 1.5, b"1h", ["1h"]])
def test_parse_duration_rejects_non_strings(value):
    with pytest.raises(DurationError, match="^time: invalid duration: not a string$"):
        parse_duration(value)


@pytest.mark.parametrize("nanoseconds, text", [
    (0, "0s"),
    (1, "1ns"),
    (24 * HOUR, "24h"),
    (24 * HOUR + 10 * MINUTE, "24h10m"),
    (47 * HOUR + 50 * MINUTE, "47h50m"),
    (HOUR + SECOND, "1h1s"),
    (90 * MINUTE + 15 * SECOND, "1h30m15s"),
    (1500 * MILLISECOND, "1s500ms"),
    (-(HOUR + 30 * MINUTE), "-1h30m"),
    (MAX_GO_DURATION, "2562047h47m16s854ms775us807ns"),
    (MIN_GO_DURATION, "-2562047h47m16s854ms775us808ns"),
])
def test_format_duration(nanoseconds, text):
    assert format_duration(nanoseconds) == text


@given(st.integers(min_value=MIN_GO_DURATION, max_value=MAX_GO_DURATION))
def test_format_then_parse_round_trips(nanoseconds):
    assert parse_duration(format_duration(nanoseconds)) == nanoseconds


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_duration_error(text):
    try:
        nanoseconds = parse_duration(text)
    except DurationError as error:
        assert str(error).startswith("time: ")
    else:
        assert MIN_GO_DURATION <= nanoseconds <= MAX_GO_DURATION
