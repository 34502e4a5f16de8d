import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.orgs import (
    ORG_ID_MAX_LENGTH,
    KeyFileError,
    parse_keyfile,
    read_keyfile,
    validate_orgs,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.stagger import stagger_delays

KEY = "na1.Zx9Qw8Er7Ty6"
KEY2 = "na1.Pl0Ok9Ij8Uh7"
SOURCE = "keys.csv"
LONGEST_ORG_ID = "o" * ORG_ID_MAX_LENGTH
TOO_LONG_ORG_ID = "o" * (ORG_ID_MAX_LENGTH + 1)

ORG_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
# Key characters for the leak checks. No error message has 8 characters of this alphabet in a row
# (its upper-case words, line numbers and positions are shorter), so 8 characters of a key found in
# a message were leaked.
LEAK_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=.!$%&*;<>?@^`{|}~"
# What a real key may contain: printable ASCII but space, quotes, backslash (and the separator).
KEY_ALPHABET = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "'\"\\,")

MESSAGE_LINE = re.compile(r"^keys\.csv (line \d+|lines (\d+, )*\d+ and \d+): \S")
MORE_PROBLEMS = re.compile(r"^\.\.\. and \d+ more problems$")


def _orgs(*triples):
    return [{"org_id": org_id, "api_key": api_key, "line": line} for org_id, api_key, line in triples]


def _assert_no_key_material(message, keys):
    for key in keys:
        for start in range(len(key) - 7):
            assert key[start:start + 8] not in message


def _raises(text, **kwargs):
    with pytest.raises(KeyFileError) as caught:
        parse_keyfile(text, **kwargs)
    return caught.value


# --- key files that parse -------------------------------------------------------------------------

ACCEPTED = [
    ("lf", "o-1,%s\no-2,%s\n" % (KEY, KEY2), _orgs(("o-1", KEY, 1), ("o-2", KEY2, 2))),
    ("no final newline", "o-1,%s\no-2,%s" % (KEY, KEY2), _orgs(("o-1", KEY, 1), ("o-2", KEY2, 2))),
    ("crlf", "o-1,%s\r\no-2,%s\r\n" % (KEY, KEY2), _orgs(("o-1", KEY, 1), ("o-2", KEY2, 2))),
    ("crlf no final newline", "o-1,%s\r\no-2,%s" % (KEY, KEY2), _orgs(("o-1", KEY, 1), ("o-2", KEY2, 2))),
    ("mixed endings", "o-1,%s\r\no-2,%s\n" % (KEY, KEY2), _orgs(("o-1", KEY, 1), ("o-2", KEY2, 2))),
    ("bom", u"\ufeffo-1,%s\n" % KEY, _orgs(("o-1", KEY, 1))),
    ("bom crlf", u"\ufeffo-1,%s\r\n" % KEY, _orgs(("o-1", KEY, 1))),
    ("bom then comment", u"\ufeff# org_id,api_key\no-1,%s" % KEY, _orgs(("o-1", KEY, 2))),
    ("blank lines", "\n\no-1,%s\n\n\no-2,%s\n\n" % (KEY, KEY2), _orgs(("o-1", KEY, 3), ("o-2", KEY2, 6))),
    ("whitespace-only lines", " \n\t\n \t \r\no-1,%s" % KEY, _orgs(("o-1", KEY, 4))),
    ("comments", "# keys\n#o-9,x,y,'\"\\\no-1,%s\n  # indented\n\t#tab" % KEY, _orgs(("o-1", KEY, 3))),
    ("blanks around fields", " o-1 ,\t%s \t\n\to-2\t,  %s" % (KEY, KEY2), _orgs(("o-1", KEY, 1), ("o-2", KEY2, 2))),
    ("longest org id", "%s,%s" % (LONGEST_ORG_ID, KEY), _orgs((LONGEST_ORG_ID, KEY, 1))),
    ("org id characters", "%s,%s" % (ORG_ID_ALPHABET, KEY), _orgs((ORG_ID_ALPHABET, KEY, 1))),
    ("one-character fields", "a,b", _orgs(("a", "b", 1))),
    ("key punctuation", "o-1,%s" % KEY_ALPHABET, _orgs(("o-1", KEY_ALPHABET, 1))),
    ("key with hash", "o-1,abc#def", _orgs(("o-1", "abc#def", 1))),
    ("bytes", (u"\ufeffo-1,%s\r\n" % KEY).encode("utf-8"), _orgs(("o-1", KEY, 1))),
]


@pytest.mark.parametrize("text, expected", [case[1:] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED])
def test_parse_keyfile_accepts(text, expected):
    assert parse_keyfile(text, source=SOURCE) == expected


# --- key files that are rejected -----------------------------------------------------------------

REJECTED = [
    ("three fields", "o-1,%s,extra" % KEY, ['keys.csv line 1: expected 2 fields "org_id,api_key", found 3'], [1]),
    ("one field", "o-1\n", ['keys.csv line 1: expected 2 fields "org_id,api_key", found 1'], [1]),
    ("key only", KEY, ['keys.csv line 1: expected 2 fields "org_id,api_key", found 1'], [1]),
    ("semicolon separated", "o-1;%s" % KEY, ['keys.csv line 1: expected 2 fields "org_id,api_key", found 1'], [1]),
    ("empty org id", ",%s" % KEY, ["keys.csv line 1: org id is empty"], [1]),
    ("blank org id", " \t,%s" % KEY, ["keys.csv line 1: org id is empty"], [1]),
    ("empty key", "o-1,", ["keys.csv line 1: api key is empty"], [1]),
    ("blank key", "o-1, \t", ["keys.csv line 1: api key is empty"], [1]),
    ("both empty", ",", ["keys.csv line 1: org id is empty", "keys.csv line 1: api key is empty"], [1]),
    ("duplicate", "o-1,%s\no-2,%s\no-1,%s" % (KEY, KEY2, KEY2), ["keys.csv lines 1 and 3: duplicate org id"], [1, 3]),
    ("duplicate after blanks", "o-1 , %s\n\n# c\n o-1,%s" % (KEY, KEY), ["keys.csv lines 1 and 4: duplicate org id"],
     [1, 4]),
    ("triplicate", "o-1,%s\no-1,%s\no-2,%s\no-1,%s" % (KEY, KEY, KEY, KEY),
     ["keys.csv lines 1, 2 and 4: duplicate org id"], [1, 2, 4]),
    ("path in org id", "../../etc,%s" % KEY,
     ["keys.csv line 1: org id has a character outside [A-Za-z0-9_-] (character 1)"], [1]),
    ("slash in org id", "o/1,%s" % KEY, ["keys.csv line 1: org id has a character outside [A-Za-z0-9_-] (character 2)"],
     [1]),
    ("space in org id", "o 1,%s" % KEY, ["keys.csv line 1: org id has a character outside [A-Za-z0-9_-] (character 2)"],
     [1]),
    ("dot in org id", "o-1.x,%s" % KEY,
     ["keys.csv line 1: org id has a character outside [A-Za-z0-9_-] (character 4)"], [1]),
    ("non-ASCII org id", u"\u00f6rg,%s" % KEY,
     ["keys.csv line 1: org id has a character outside [A-Za-z0-9_-] (character 1)"], [1]),
    ("bom inside", u"o-1,%s\n\ufeffo-2,%s" % (KEY, KEY2),
     ["keys.csv line 2: org id has a character outside [A-Za-z0-9_-] (character 1)"], [2]),
    ("org id too long", "%s,%s" % (TOO_LONG_ORG_ID, KEY), ["keys.csv line 1: org id is longer than 64 characters"], [1]),
    ("columns swapped", "%s,o-1" % KEY, ["keys.csv line 1: org id has a character outside [A-Za-z0-9_-] (character 4)"],
     [1]),
    ("space in key", "o-1,na1.ab cd", ["keys.csv line 1: api key has whitespace (character 7)"], [1]),
    ("tab in key", "o-1,na1.ab\tcd", ["keys.csv line 1: api key has whitespace (character 7)"], [1]),
    ("no-break space in key", u"o-1,na1.ab\u00a0cd", ["keys.csv line 1: api key has whitespace (character 7)"], [1]),
    ("inline comment", "o-1,%s # prod" % KEY, ["keys.csv line 1: api key has whitespace (character 17)"], [1]),
    ("nul in key", "o-1,na1\x00abc", ["keys.csv line 1: api key has a control character (character 4)"], [1]),
    ("escape in key", "o-1,na1\x1babc", ["keys.csv line 1: api key has a control character (character 4)"], [1]),
    ("delete in key", "o-1,na1\x7fabc", ["keys.csv line 1: api key has a control character (character 4)"], [1]),
    ("vertical tab in key", "o-1,na1\x0babc", ["keys.csv line 1: api key has a control character (character 4)"], [1]),
    ("C1 control in key", u"o-1,na1\u0085abc", ["keys.csv line 1: api key has a control character (character 4)"],
     [1]),
    ("single quote in key", "o-1,'%s'" % KEY, ["keys.csv line 1: api key has a quote (character 1)"], [1]),
    ("double quote in key", 'o-1,"%s"' % KEY, ["keys.csv line 1: api key has a quote (character 1)"], [1]),
    ("backslash in key", "o-1,na1\\abc", ["keys.csv line 1: api key has a backslash (character 4)"], [1]),
    ("smart quote in key", u"o-1,\u201c%s\u201d" % KEY, ["keys.csv line 1: api key has a non-ASCII character (character 1)"],
     [1]),
    ("zero-width space in key", u"o-1,na1\u200babc",
     ["keys.csv line 1: api key has a non-ASCII character (character 4)"], [1]),
    ("lone carriage return", "o-1,%s\ro-2,%s" % (KEY, KEY2),
     ["keys.csv line 1: carriage return without line feed (character 21); use LF or CRLF line endings"], [1]),
    ("carriage return in comment", "# c\ro-2,%s\no-1,%s" % (KEY2, KEY),
     ["keys.csv line 1: carriage return without line feed (character 4); use LF or CRLF line endings"], [1]),
    ("double carriage return", "o-1,%s\r\r\n" % KEY,
     ["keys.csv line 1: carriage return without line feed (character 21); use LF or CRLF line endings"], [1]),
    ("bad org id and key", "o/1,na1 x", [
        "keys.csv line 1: org id has a character outside [A-Za-z0-9_-] (character 2)",
        "keys.csv line 1: api key has whitespace (character 4)",
    ], [1]),
    ("every problem, in line order", "\n".join([
        "o-1,%s" % KEY,
        "o-2,%s,%s" % (KEY, KEY2),
        "o-1,%s" % KEY2,
        "o$3,%s" % KEY,
        "o-4,",
        "o-5,%s'" % KEY,
    ]), [
        "keys.csv lines 1 and 3: duplicate org id",
        'keys.csv line 2: expected 2 fields "org_id,api_key", found 3',
        "keys.csv line 4: org id has a character outside [A-Za-z0-9_-] (character 2)",
        "keys.csv line 5: api key is empty",
        "keys.csv line 6: api key has a quote (character 17)",
    ], [1, 2, 3, 4, 5, 6]),
    ("empty", "", ["keys.csv: no orgs found (only blank and comment lines)"], []),
    ("only bom", u"\ufeff", ["keys.csv: no orgs found (only blank and comment lines)"], []),
    ("only blanks and comments", "\n \n# o-1,%s\n\t\r\n" % KEY, ["keys.csv: no orgs found (only blank and comment lines)"],
     []),
    ("invalid UTF-8", b"o-1,na1.abc\no-2,na1.\xff\xfe", ["keys.csv line 2: not valid UTF-8"], [2]),
    ("UTF-16", u"o-1,na1.abc".encode("utf-16"), ["keys.csv line 1: not valid UTF-8"], [1]),
    ("none", None, ["keys.csv: expected the text of a key file, got NoneType"], []),
    ("list", ["o-1,%s" % KEY], ["keys.csv: expected the text of a key file, got list"], []),
]


@pytest.mark.parametrize("text, messages, lines", [case[1:] for case in REJECTED], ids=[case[0] for case in REJECTED])
def test_parse_keyfile_rejects(text, messages, lines):
    error = _raises(text, source=SOURCE)
    assert str(error).split("\n") == messages
    assert error.lines == lines
    _assert_no_key_material(str(error), [KEY, KEY2])


def test_parse_keyfile_default_source():
    assert str(_raises("o-1")) == 'key file line 1: expected 2 fields "org_id,api_key", found 1'


def test_parse_keyfile_error_is_a_value_error():
    assert issubclass(KeyFileError, ValueError)


def test_invalid_utf8_error_does_not_chain_the_decode_error():
    error = _raises(b"o-1,na1.\xff", source=SOURCE)
    assert error.__suppress_context__


def test_10000_orgs():
    text = "".join("o-%05d,na1.key%05dABCDEFGH\n" % (index, index) for index in range(10000))
    orgs = stagger_delays(parse_keyfile(text))
    assert len(orgs) == 10000
    assert orgs[9999] == {"org_id": "o-09999", "api_key": "na1.key09999ABCDEFGH", "line": 10000,
                          "export_delay": "34h30m"}


# --- orgs given as a variable ---------------------------------------------------------------------

def test_validate_orgs_accepts():
    items = ({"org_id": "o-1", "api_key": KEY}, {"org_id": LONGEST_ORG_ID, "api_key": KEY2})
    assert validate_orgs(items) == _orgs(("o-1", KEY, 1), (LONGEST_ORG_ID, KEY2, 2))


def test_validate_orgs_returns_new_dicts():
    item = {"org_id": "o-1", "api_key": KEY}
    result = validate_orgs([item])
    result[0]["org_id"] = "changed"
    assert item == {"org_id": "o-1", "api_key": KEY}


VARIABLE_REJECTED = [
    ("not a list", {"org_id": "o-1", "api_key": KEY},
     ["multi_hauser_orgs: expected a list of mappings with org_id and api_key, got dict"], []),
    ("a string", "o-1,%s" % KEY, ["multi_hauser_orgs: expected a list of mappings with org_id and api_key, got str"], []),
    ("none", None, ["multi_hauser_orgs: expected a list of mappings with org_id and api_key, got NoneType"], []),
    ("empty", [], ["multi_hauser_orgs: no orgs given"], []),
    ("item not a mapping", [{"org_id": "o-1", "api_key": KEY}, "o-2,%s" % KEY2],
     ["multi_hauser_orgs[1]: expected a mapping with org_id and api_key, got str"], [2]),
    ("missing key", [{"org_id": "o-1"}], ["multi_hauser_orgs[0]: api_key is missing"], [1]),
    ("missing both", [{}], ["multi_hauser_orgs[0]: org_id is missing", "multi_hauser_orgs[0]: api_key is missing"], [1]),
    ("non-string key", [{"org_id": "o-1", "api_key": 12345678}],
     ["multi_hauser_orgs[0]: api_key must be a string, got int"], [1]),
    ("non-string org id", [{"org_id": None, "api_key": KEY}],
     ["multi_hauser_orgs[0]: org_id must be a string, got NoneType"], [1]),
    ("unknown key", [{"org_id": "o-1", "api_key": KEY, "apikey": KEY}],
     ["multi_hauser_orgs[0]: has keys other than org_id and api_key"], [1]),
    ("key as a mapping key", [{"org_id": "o-1", "api_key": KEY, KEY2: None}],
     ["multi_hauser_orgs[0]: has keys other than org_id and api_key"], [1]),
    ("bad org id", [{"org_id": "o-1", "api_key": KEY}, {"org_id": "o-2", "api_key": KEY}, {"org_id": "o/3", "api_key": KEY}],
     ["multi_hauser_orgs[2]: org_id has a character outside [A-Za-z0-9_-] (character 2)"], [3]),
    ("org id too long", [{"org_id": TOO_LONG_ORG_ID, "api_key": KEY}],
     ["multi_hauser_orgs[0]: org_id is longer than 64 characters"], [1]),
    ("empty key", [{"org_id": "o-1", "api_key": ""}], ["multi_hauser_orgs[0]: api_key is empty"], [1]),
    ("blanks are not stripped", [{"org_id": "o-1", "api_key": " %s" % KEY}],
     ["multi_hauser_orgs[0]: api_key has whitespace (character 1)"], [1]),
    ("quote in key", [{"org_id": "o-1", "api_key": KEY + '"'}],
     ["multi_hauser_orgs[0]: api_key has a quote (character 17)"], [1]),
    ("duplicate", [{"org_id": "o-1", "api_key": KEY}, {"org_id": "o-2", "api_key": KEY}, {"org_id": "o-1", "api_key": KEY2}],
     ["multi_hauser_orgs[0] and multi_hauser_orgs[2]: duplicate org_id"], [1, 3]),
    ("every problem", [{"org_id": "o-1", "api_key": KEY}, 7, {"org_id": "o-1", "api_key": "a b"}, {"api_key": KEY}], [
        "multi_hauser_orgs[0] and multi_hauser_orgs[2]: duplicate org_id",
        "multi_hauser_orgs[1]: expected a mapping with org_id and api_key, got int",
        "multi_hauser_orgs[2]: api_key has whitespace (character 2)",
        "multi_hauser_orgs[3]: org_id is missing",
    ], [1, 2, 3, 4]),
]


@pytest.mark.parametrize("items, messages, lines", [case[1:] for case in VARIABLE_REJECTED],
                         ids=[case[0] for case in VARIABLE_REJECTED])
def test_validate_orgs_rejects(items, messages, lines):
    with pytest.raises(KeyFileError) as caught:
        validate_orgs(items)
    assert str(caught.value).split("\n") == messages
    assert caught.value.lines == lines
    _assert_no_key_material(str(caught.value), [KEY, KEY2])


def test_validate_orgs_source():
    with pytest.raises(KeyFileError, match=r"^vault_orgs\[0\]: api_key is empty$"):
        validate_orgs([{"org_id": "o-1", "api_key": ""}], source="vault_orgs")


@pytest.mark.parametrize("org_id, api_key", [
    ("", KEY), ("o/1", KEY), (TOO_LONG_ORG_ID, KEY), (u"\u00f6", KEY),
    ("o-1", ""), ("o-1", "a b"), ("o-1", "a'b"), ("o-1", "a\\b"), ("o-1", "a\x01b"), ("o-1", u"a\u00e9b"),
])
def test_key_file_and_variable_apply_the_same_rules(org_id, api_key):
    with pytest.raises(KeyFileError) as from_file:
        parse_keyfile("%s,%s" % (org_id, api_key))
    with pytest.raises(KeyFileError) as from_variable:
        validate_orgs([{"org_id": org_id, "api_key": api_key}])
    problem = re.compile(r"^\S.*?: (org.id|api.key) ")
    assert [problem.sub(r"\1 ", line).replace("_", " ") for line in str(from_file.value).split("\n")] == \
        [problem.sub(r"\1 ", line).replace("_", " ") for line in str(from_variable.value).split("\n")]


# --- properties -----------------------------------------------------------------------------------

_blanks = st.text(alphabet=" \t", max_size=3)
_filler_lines = st.one_of(
    _blanks,
    st.builds(lambda indent, text: indent + "#" + text, _blanks, st.text().map(lambda t: re.sub("[\r\n]", "", t))),
)


@st.composite
def valid_key_files(draw):
    """A valid key file as text or bytes, with the orgs it holds."""
    org_ids = draw(st.lists(st.text(alphabet=ORG_ID_ALPHABET, min_size=1, max_size=ORG_ID_MAX_LENGTH),
                            min_size=1, max_size=20, unique_by=str.lower))
    lines, orgs = [], []
    for org_id in org_ids:
        lines.extend(draw(st.lists(_filler_lines, max_size=2)))
        api_key = draw(st.text(alphabet=KEY_ALPHABET, min_size=1, max_size=80))
        lines.append(draw(_blanks) + org_id + draw(_blanks) + "," + draw(_blanks) + api_key + draw(_blanks))
        orgs.append({"org_id": org_id, "api_key": api_key, "line": len(lines)})
    lines.extend(draw(st.lists(_filler_lines, max_size=2)))
    endings = [draw(st.sampled_from(["\n", "\r\n"])) for _line in lines]
    if draw(st.booleans()):
        endings[-1] = ""
    text = "".join(line + ending for line, ending in zip(lines, endings))
    if draw(st.booleans()):
        text = u"\ufeff" + text
    if draw(st.booleans()):
        text = text.encode("utf-8")
    return text, orgs


@given(valid_key_files())
def test_valid_key_files_round_trip(case):
    text, orgs = case
    assert parse_keyfile(text) == orgs


_leak_keys = st.text(alphabet=LEAK_KEY_ALPHABET, min_size=8, max_size=40)


@st.composite
def dirty_key_files(draw):
    """Text made of keys, org ids, separators and junk; returns the text and the keys in it."""
    keys = draw(st.lists(_leak_keys, min_size=1, max_size=4))
    pieces = st.one_of(
        st.sampled_from(keys),
        st.text(alphabet=ORG_ID_ALPHABET, min_size=1, max_size=8),
        st.sampled_from([",", " ", "\t", "\n", "\r\n", "\r", "#", u"\ufeff", "'", "\\"]),
        st.text(max_size=3),
    )
    return "".join(draw(st.lists(pieces, max_size=40))), keys


def _assert_well_formed(error, text):
    message = str(error)
    if not error.lines:
        assert message.startswith("keys.csv: ")
        assert "\n" not in message
        return
    line_count = text.count("\n") + 1
    message_lines = message.split("\n")
    assert len(message_lines) <= 21
    if MORE_PROBLEMS.match(message_lines[-1]):
        message_lines = message_lines[:-1]
    for message_line in message_lines:
        assert MESSAGE_LINE.match(message_line), message_line
        numbers = [int(number) for number in re.findall(r"\d+", message_line.split(":")[0])]
        assert set(numbers) <= set(error.lines)
    assert all(1 <= number <= line_count for number in error.lines)


@given(dirty_key_files())
def test_dirty_key_files_never_leak_a_key(case):
    text, keys = case
    try:
        parse_keyfile(text, source=SOURCE)
    except KeyFileError as error:
        _assert_well_formed(error, text)
        _assert_no_key_material(str(error), keys)


@given(st.text())
def test_any_text_is_parsed_or_rejected_with_a_line(text):
    try:
        orgs = parse_keyfile(text, source=SOURCE)
    except KeyFileError as error:
        _assert_well_formed(error, text)
    else:
        assert orgs and all(set(org) == {"org_id", "api_key", "line"} for org in orgs)


@given(st.binary())
def test_any_bytes_are_parsed_or_rejected(data):
    try:
        parse_keyfile(data, source=SOURCE)
    except KeyFileError as error:
        _assert_well_formed(error, data.decode("utf-8", "replace"))


@given(st.lists(st.fixed_dictionaries({"org_id": st.one_of(_leak_keys, st.text(max_size=5)), "api_key": _leak_keys}),
                max_size=5))
def test_variable_errors_never_leak_a_key(items):
    keys = [item["api_key"] for item in items] + [item["org_id"] for item in items if len(item["org_id"]) >= 8]
    try:
        validate_orgs(items)
    except KeyFileError as error:
        _assert_no_key_material(str(error), keys)


# --- bounds -----------------------------------------------------------------------------------------

def test_an_api_key_of_256_characters_is_taken_and_a_longer_one_refused():
    longest = "k" * 256
    assert parse_keyfile("o-1,%s" % longest)[0]["api_key"] == longest
    assert validate_orgs([{"org_id": "o-1", "api_key": longest}])[0]["api_key"] == longest
    error = _raises("o-1,%s\no-2,%s" % (KEY, longest + "k"), source=SOURCE)
    assert str(error) == "keys.csv line 2: api key is longer than 256 characters" and error.lines == [2]
    with pytest.raises(KeyFileError, match=r"^multi_hauser_orgs\[0\]: api_key is longer than 256 characters$"):
        validate_orgs([{"org_id": "o-1", "api_key": longest + "k"}])


def test_a_line_longer_than_1024_characters_is_refused_by_its_number_alone():
    key = "na1." + "Q" * 1100
    error = _raises("o-1,%s\no-2,%s\n# %s\n" % (KEY, key, "c" * 1022), source=SOURCE)
    assert str(error) == "keys.csv line 2: longer than 1024 characters" and error.lines == [2]
    _assert_no_key_material(str(error), [key])
    assert parse_keyfile("# %s\no-1,%s" % ("c" * 1022, KEY)) == _orgs(("o-1", KEY, 2))  # 1024: taken


def test_a_line_of_1024_characters_is_taken_whatever_its_line_ending():
    assert parse_keyfile("# %s\r\no-1,%s\r\n" % ("c" * 1022, KEY)) == _orgs(("o-1", KEY, 2))


@pytest.mark.parametrize("as_bytes", [True, False])
def test_a_key_file_larger_than_16_mib_is_refused_before_it_is_read_line_by_line(as_bytes):
    text = ("# filler\n" * (16 * 1024 * 1024 // 9 + 1))[:16 * 1024 * 1024 + 1]
    error = _raises(text.encode() if as_bytes else text, source=SOURCE)
    assert str(error) == "keys.csv: larger than 16 MiB; a key file of 100000 orgs is a few megabytes"
    assert error.lines == []
    # 16 MiB itself is read (and has no org)
    assert str(_raises(text[:-1], source=SOURCE)) == "keys.csv: no orgs found (only blank and comment lines)"


def _many(count):
    return "".join("o-%06d,na1.key%06d\n" % (index, index) for index in range(count))


def test_100000_orgs_are_taken_and_one_more_is_refused():
    assert len(parse_keyfile(_many(100000))) == 100000
    error = _raises(_many(100001), source=SOURCE)
    assert str(error) == "keys.csv line 100001: more than 100000 orgs" and error.lines == [100001]
    items = [{"org_id": "o-%d" % index, "api_key": "k"} for index in range(100001)]
    with pytest.raises(KeyFileError, match=r"^multi_hauser_orgs: more than 100000 orgs$"):
        validate_orgs(items)


def test_a_message_lists_20_problems_then_says_how_many_more():
    error = _raises("".join("o/%d,%s\n" % (index, KEY) for index in range(25)), source=SOURCE)
    lines = str(error).split("\n")
    assert len(lines) == 21
    assert lines[:2] == ["keys.csv line 1: org id has a character outside [A-Za-z0-9_-] (character 2)",
                         "keys.csv line 2: org id has a character outside [A-Za-z0-9_-] (character 2)"]
    assert lines[19].startswith("keys.csv line 20: ") and lines[20] == "... and 5 more problems"
    assert error.lines == list(range(1, 26))  # every line concerned, said or not
    with pytest.raises(KeyFileError) as caught:
        validate_orgs([{"org_id": "o/%d" % index, "api_key": KEY} for index in range(22)])
    assert str(caught.value).endswith("\n... and 2 more problems")


def test_exactly_20_problems_are_all_listed():
    error = _raises("".join("o/%d,%s\n" % (index, KEY) for index in range(20)), source=SOURCE)
    assert len(str(error).split("\n")) == 20 and "more problems" not in str(error)


# --- a header line, as spreadsheets export --------------------------------------------------------

@pytest.mark.parametrize("header", ["org_id,api_key", "ORG_ID , API_KEY", '"org_id","api_key"', "'OrgId','ApiKey'",
                                    "org id,api key", "id,key", "organization_id,token", "\ufefforg_id,api_key"])
def test_a_first_line_naming_the_columns_is_skipped_and_said(header):
    notes = []
    text = "%s\r\no-1,%s\r\n" % (header, KEY)
    assert parse_keyfile(text, source=SOURCE, notes=notes) == _orgs(("o-1", KEY, 2))
    assert notes == ["keys.csv line 1 names the columns (a CSV header): skipped"]
    assert parse_keyfile(text) == _orgs(("o-1", KEY, 2))  # notes are optional


def test_the_header_is_the_first_org_line_after_blanks_and_comments():
    notes = []
    assert parse_keyfile("# exported 2026-11-28\n\norg_id,api_key\no-1,%s\n" % KEY, source=SOURCE, notes=notes) == \
        _orgs(("o-1", KEY, 4))
    assert notes == ["keys.csv line 3 names the columns (a CSV header): skipped"]


def test_only_the_first_org_line_can_be_a_header():
    notes = []
    orgs = parse_keyfile("o-1,%s\norg_id,api_key\n" % KEY, source=SOURCE, notes=notes)
    assert [org["org_id"] for org in orgs] == ["o-1", "org_id"] and notes == []


def test_a_key_file_of_a_header_alone_has_no_orgs():
    notes = []
    with pytest.raises(KeyFileError, match=r"^keys\.csv: no orgs found"):
        parse_keyfile("org_id,api_key\n", source=SOURCE, notes=notes)
    assert notes == ["keys.csv line 1 names the columns (a CSV header): skipped"]


# --- org ids that differ only in case -------------------------------------------------------------

def test_org_ids_that_differ_only_in_case_are_refused_naming_both_lines():
    error = _raises("o-AbC,%s\no-2,%s\no-abc,%s\n" % (KEY, KEY2, KEY2), source=SOURCE)
    assert str(error) == ("keys.csv lines 1 and 3: org ids that differ only in case (their warehouse tables would be "
                          "the same)")
    assert error.lines == [1, 3]
    with pytest.raises(KeyFileError) as caught:
        validate_orgs([{"org_id": "O-1", "api_key": KEY}, {"org_id": "o-1", "api_key": KEY2}])
    assert str(caught.value) == ("multi_hauser_orgs[0] and multi_hauser_orgs[1]: org_ids that differ only in case "
                                 "(their warehouse tables would be the same)")


def test_a_duplicate_and_a_case_variant_are_one_problem_naming_every_line():
    error = _raises("o-a,%s\no-a,%s\nO-A,%s\n" % (KEY, KEY, KEY2), source=SOURCE)
    assert str(error) == ("keys.csv lines 1, 2 and 3: org ids that differ only in case (their warehouse tables would "
                          "be the same)")


# --- read_keyfile -----------------------------------------------------------------------------------

def test_read_keyfile_reads_the_bytes_of_a_file_up_to_the_limit(tmp_path):
    path = tmp_path / "keys.csv"
    path.write_bytes(b"o-1,%s\n" % KEY.encode())
    assert read_keyfile(str(path)) == b"o-1,%s\n" % KEY.encode()
    assert read_keyfile(str(path), limit=len(KEY) + 5) == b"o-1,%s\n" % KEY.encode()
    with pytest.raises(KeyFileError) as caught:
        read_keyfile(str(path), limit=len(KEY) + 4)
    assert str(caught.value).startswith("%s: larger than " % path)


def test_read_keyfile_of_a_file_without_end_stops_at_the_limit():
    with pytest.raises(KeyFileError, match="^/dev/zero: larger than 16 MiB"):
        read_keyfile("/dev/zero")
