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
    numbers_by_org_id = {}
    for number, org_id, api_key in entries:
        org_id_problem = _org_id_problem(org_id)
        if org_id_problem:
            problems.append(([number], "%s: %s %s" % (place(number), org_id_label, org_id_problem)))
        else:
            numbers_by_org_id.setdefault(org_id, []).append(number)
        api_key_problem = _api_key_problem(api_key)
        if api_key_problem:
            problems.append(([number], "%s: %s %s" % (place(number), api_key_label, api_key_problem)))
        orgs.append({"org_id": org_id, "api_key": api_key, "line": number})
    for numbers in numbers_by_org_id.values():
        if len(numbers) > 1:
            problems.append((numbers, "%s: duplicate %s" % (places(numbers), org_id_label)))
    return orgs


def _raise_problems(problems):
    if problems:
        problems.sort(key=lambda problem: problem[0][0])
        raise KeyFileError(
            "\n".join(message for _lines, message in problems),
            sorted(set(number for lines, _message in problems for number in lines)),
        )


def _as_text(data, source):
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


def _key_file_entries(text, source, problems):
    """Yield (line number, org id, api key) for each org line; add line problems to problems."""
    for number, line in enumerate(text.split("\n"), 1):
        if line.endswith("\r"):
            line = line[:-1]
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
        yield number, fields[0].strip(_BLANKS), fields[1].strip(_BLANKS)


def parse_keyfile(text, source="key file"):
    """Parse the text (str, or UTF-8 bytes) of a key file.

    Return [{"org_id", "api_key", "line"}] in file order, or raise KeyFileError listing
    every problem, one per line of its message. source names the file in messages.
    """
    text = _as_text(text, source)
    if text.startswith(_BOM):
        text = text[len(_BOM):]
    problems = []
    orgs = _collect_orgs(
        _key_file_entries(text, source, problems),
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
