# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The list of FullStory orgs: read from a key file or from a variable, and validated.

A key file has one ``org_id,api_key`` line per org. Lines end in LF or CRLF; a carriage
return anywhere else is an error (no old-Mac CR-only files: such a file would otherwise
read as one long line). The last line may lack its newline, the text may start with a
UTF-8 byte order mark, and blank lines, lines whose first non-blank character is ``#``
and spaces or tabs around fields are ignored.

Error messages never quote a field value, not even an org id (a key file with its
columns swapped has the key in the org id column): they give the source, the line and
the position of the problem only, so they are safe to log.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping, Sequence

ORG_ID_MAX_LENGTH = 64
API_KEY_MAX_LENGTH = 256
LINE_MAX_LENGTH = 1024
# Bounds of what is read at all: a key file of the largest deployments is well under a megabyte.
MAX_KEYFILE_BYTES = 16 * 1024 * 1024
MAX_ORGS = 100000
MAX_PROBLEMS = 20  # a message lists that many problems, then says how many more there are
# A first line such as spreadsheets export: names of the columns, not an org.
_HEADER_ORG_IDS = frozenset(("org_id", "orgid", "org", "org id", "organization", "organization_id", "id"))
_HEADER_KEYS = frozenset(("api_key", "apikey", "api key", "key", "token", "api_token", "fsapitoken"))

_ORG_ID_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# Printable ASCII but quotes and backslash. Real keys are ASCII; anything else is a
# copy-and-paste accident (smart quotes, zero-width or non-breaking spaces).
_API_KEY_CHARACTERS = frozenset(chr(code) for code in range(0x21, 0x7F)) - frozenset("'\"\\")
_BLANKS = " \t"
_BOM = u"\ufeff"


class KeyFileError(ValueError):
    """An invalid key file or org list. ``lines`` holds the 1-based line numbers concerned."""

    def __init__(self, message, lines=()):
        super(KeyFileError, self).__init__(message)
        self.lines = list(lines)


def _first_outside(text, allowed):
    """Return the 1-based position of the first character of text not in allowed, or 0."""
    if allowed.issuperset(text):
        return 0
    return next(position for position, character in enumerate(text, 1) if character not in allowed)


def _org_id_problem(org_id):
    """Say what is wrong with an org id, or return None."""
    if not org_id:
        return "is empty"
    position = _first_outside(org_id, _ORG_ID_CHARACTERS)
    if position:
        return "has a character outside [A-Za-z0-9_-] (character %d)" % position
    if len(org_id) > ORG_ID_MAX_LENGTH:
        return "is longer than %d characters" % ORG_ID_MAX_LENGTH
    return None


def _describe_key_character(character):
    """Name what kind of character, not allowed in an API key, this is."""
    code = ord(character)
    if character in _BLANKS:
        return "whitespace"
    if code < 0x20 or 0x7F <= code < 0xA0:
        return "a control character"
    if character.isspace():
        return "whitespace"
    if character in "'\"":
        return "a quote"
    if character == "\\":
        return "a backslash"
    return "a non-ASCII character"


def _api_key_problem(api_key):
    """Say what is wrong with an API key, or return None."""
    if not api_key:
        return "is empty"
    position = _first_outside(api_key, _API_KEY_CHARACTERS)
    if position:
        return "has %s (character %d)" % (_describe_key_character(api_key[position - 1]), position)
    if len(api_key) > API_KEY_MAX_LENGTH:
        return "is longer than %d characters" % API_KEY_MAX_LENGTH
    return None


def _and_list(words):
    words = list(words)
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def _collect_orgs(entries, problems, labels, place, places):
    """Validate (number, org_id, api_key) entries; add (lines, message) problems; return the orgs.

    labels names the two fields in messages; place(number) and places(numbers) name positions.
    """
    org_id_label, api_key_label = labels
    orgs = []
    lines_by_org_id = {}  # in lower case: org ids that differ only in case would share tables
    for number, org_id, api_key in entries:
        if len(orgs) >= MAX_ORGS:
            problems.append(([number], "%s: more than %d orgs" % (place(number), MAX_ORGS)))
            break
        org_id_problem = _org_id_problem(org_id)
        if org_id_problem:
            problems.append(([number], "%s: %s %s" % (place(number), org_id_label, org_id_problem)))
        else:
            lines_by_org_id.setdefault(org_id.lower(), []).append((number, org_id))
        api_key_problem = _api_key_problem(api_key)
        if api_key_problem:
            problems.append(([number], "%s: %s %s" % (place(number), api_key_label, api_key_problem)))
        orgs.append({"org_id": org_id, "api_key": api_key, "line": number})
    for found in lines_by_org_id.values():
        if len(found) > 1:
            numbers = [number for number, _org_id in found]
            if len(set(org_id for _number, org_id in found)) == 1:
                problems.append((numbers, "%s: duplicate %s" % (places(numbers), org_id_label)))
            else:
                problems.append((numbers, "%s: %ss that differ only in case (their warehouse tables would be "
                                          "the same)" % (places(numbers), org_id_label)))
    return orgs


def _raise_problems(problems):
    if problems:
        problems.sort(key=lambda problem: problem[0][0])
        messages = [message for _lines, message in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            messages.append("... and %d more problems" % (len(problems) - MAX_PROBLEMS))
        raise KeyFileError(
            "\n".join(messages),
            sorted(set(number for lines, _message in problems for number in lines)),
        )


def _as_text(data, source):
    if isinstance(data, (bytes, str)) and len(data) > MAX_KEYFILE_BYTES:
        raise KeyFileError("%s: larger than %d MiB; a key file of %d orgs is a few megabytes"
                           % (source, MAX_KEYFILE_BYTES // (1024 * 1024), MAX_ORGS))
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            # from None: the decode error quotes a byte of the input, perhaps of a key.
            raise KeyFileError("%s line %d: not valid UTF-8" % (source, line), [line]) from None
    if not isinstance(data, str):
        raise KeyFileError("%s: expected the text of a key file, got %s" % (source, type(data).__name__))
    return data


def _key_file_entries(text, source, problems, notes):
    """Yield (line number, org id, api key) for each org line; add line problems to problems, and
    to notes what is skipped (a header line)."""
    first = True
    for number, line in enumerate(text.split("\n"), 1):
        if line.endswith("\r"):
            line = line[:-1]
        if len(line) > LINE_MAX_LENGTH:
            problems.append(([number], "%s line %d: longer than %d characters" % (source, number, LINE_MAX_LENGTH)))
            continue
        if "\r" in line:
            problems.append(([number], "%s line %d: carriage return without line feed (character %d); "
                                       "use LF or CRLF line endings" % (source, number, line.index("\r") + 1)))
            continue
        content = line.strip(_BLANKS)
        if not content or content.startswith("#"):
            continue
        fields = content.split(",")
        if len(fields) != 2:
            problems.append(([number], '%s line %d: expected 2 fields "org_id,api_key", found %d'
                             % (source, number, len(fields))))
            continue
        org_id, api_key = fields[0].strip(_BLANKS), fields[1].strip(_BLANKS)
        if first and org_id.strip('"\'').lower() in _HEADER_ORG_IDS and api_key.strip('"\'').lower() in _HEADER_KEYS:
            notes.append("%s line %d names the columns (a CSV header): skipped" % (source, number))
            first = False
            continue
        first = False
        yield number, org_id, api_key


def read_keyfile(path, limit=MAX_KEYFILE_BYTES):
    """The bytes of the key file at path, of at most limit bytes (KeyFileError beyond: nothing
    larger is read into memory)."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise KeyFileError("%s: larger than %d MiB; a key file of %d orgs is a few megabytes"
                           % (path, limit // (1024 * 1024), MAX_ORGS))
    return data


def parse_keyfile(text, source="key file", notes=None):
    """Parse the text (str, or UTF-8 bytes) of a key file.

    Return [{"org_id", "api_key", "line"}] in file order, or raise KeyFileError listing
    every problem, one per line of its message. source names the file in messages. A first
    line that names the columns (org_id,api_key, as spreadsheets export) is skipped, and said
    in notes (a list) when given.
    """
    text = _as_text(text, source)
    if text.startswith(_BOM):
        text = text[len(_BOM):]
    problems = []
    orgs = _collect_orgs(
        _key_file_entries(text, source, problems, notes if notes is not None else []),
        problems,
        ("org id", "api key"),
        lambda number: "%s line %d" % (source, number),
        lambda numbers: "%s lines %s" % (source, _and_list(str(number) for number in numbers)),
    )
    _raise_problems(problems)
    if not orgs:
        raise KeyFileError("%s: no orgs found (only blank and comment lines)" % source)
    return orgs


def _variable_entries(items, source, problems):
    """Yield (index + 1, org_id, api_key) for each well-formed item; add item problems to problems."""
    for index, item in enumerate(items):
        number = index + 1
        where = "%s[%d]" % (source, index)
        if not isinstance(item, Mapping):
            problems.append(([number], "%s: expected a mapping with org_id and api_key, got %s"
                             % (where, type(item).__name__)))
            continue
        item_problems = []
        # Unknown keys are counted, not named: a mangled mapping may hold the key as a key.
        if set(item) - {"org_id", "api_key"}:
            item_problems.append("%s: has keys other than org_id and api_key" % where)
        for field in ("org_id", "api_key"):
            if field not in item:
                item_problems.append("%s: %s is missing" % (where, field))
            elif not isinstance(item[field], str):
                item_problems.append("%s: %s must be a string, got %s" % (where, field, type(item[field]).__name__))
        if item_problems:
            problems.extend(([number], message) for message in item_problems)
            continue
        yield number, item["org_id"], item["api_key"]


def validate_orgs(items, source="multi_hauser_orgs"):
    """Validate orgs given as a list of {"org_id", "api_key"} mappings (values used exactly as given).

    Return [{"org_id", "api_key", "line"}] with line = index + 1, or raise KeyFileError
    listing every problem; messages name items as source[index].
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise KeyFileError("%s: expected a list of mappings with org_id and api_key, got %s"
                           % (source, type(items).__name__))
    if len(items) > MAX_ORGS:
        raise KeyFileError("%s: more than %d orgs" % (source, MAX_ORGS))
    problems = []
    orgs = _collect_orgs(
        _variable_entries(items, source, problems),
        problems,
        ("org_id", "api_key"),
        lambda number: "%s[%d]" % (source, number - 1),
        lambda numbers: _and_list("%s[%d]" % (source, number - 1) for number in numbers),
    )
    _raise_problems(problems)
    if not orgs:
        raise KeyFileError("%s: no orgs given" % source)
    return orgs
