"""Parse a config's TOML text as hauser's parser (BurntSushi/toml v0.3.1, TOML 0.4) would.

tomllib reads TOML 1.0, a superset: the TOML 1.0 syntax a config generator is likely to emit
(dotted keys, a space between date and time) is looked for and rejected as hauser rejects it.
Error messages never quote the document's text, so a token in it cannot leak into a log."""

import re
import tomllib

from standin.goruntime import Fatal

_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED_KEY = re.compile(r"[ \t]*(%s)(?:[ \t]*\.[ \t]*%s)+[ \t]*=" % (_KEY, _KEY))
_SPACED_DATETIME = re.compile(r"[ \t]*%s[ \t]*=[ \t]*\d{4}-\d\d-\d\d (\d)" % _KEY)
_POSITION = re.compile(r" \(at (?:line (\d+), column (\d+)|end of document)\)$")
# tomllib messages that quote TOML syntax ("Expected '=' after a key"), not the document.
_QUOTING_ONLY_SYNTAX = ("Expected ", "Unescaped ")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')


def parse(text):
    """Return the document as a dict, or raise Fatal with a message free of its values."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Fatal(_describe(str(error))) from None
    _reject_toml_1_0_syntax(text)
    return document


def _describe(message):
    """tomllib's message, less any quoted character or key taken from the document."""
    position = _POSITION.search(message)
    detail = message[: position.start()] if position else message
    if not detail.startswith(_QUOTING_ONLY_SYNTAX):
        detail = _QUOTED.sub("...", detail)
    if position is None:
        return detail
    if position.group(1) is None:
        return "Near end of document: " + detail
    return "Near line %s (column %s): %s" % (position.group(1), position.group(2), detail)


def _reject_toml_1_0_syntax(text):
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        error = _toml_1_0_only(line)
        if error and _starts_statement(lines, number):
            raise Fatal("Near line %d: %s" % (number, error))


def _toml_1_0_only(line):
    """What hauser's lexer says about a key/value line that only TOML 1.0 allows, if it is one."""
    dotted = _DOTTED_KEY.match(line)
    if dotted:
        after_first_key = line[dotted.end(1):]
        if dotted.group(1)[0] not in "\"'" and after_first_key.startswith("."):
            return "bare keys cannot contain '.'"
        return "expected key separator '=', but got '.' instead"
    spaced = _SPACED_DATETIME.match(line)
    if spaced:
        return ("expected a top-level item to end with a newline, comment, or EOF, "
                "but got '%s' instead" % spaced.group(1))
    return None


def _starts_statement(lines, number):
    """Whether line `number` begins a statement, not the inside of a multi-line string or array."""
    try:
        tomllib.loads("\n".join(lines[: number - 1]))
    except tomllib.TOMLDecodeError:
        return False
    return True
