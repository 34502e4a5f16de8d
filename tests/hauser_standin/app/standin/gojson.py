"""encoding/json as hauser uses it: json.Marshal of request bodies and CustomVars, a Decoder's
Decode of one value into a struct or a map (UseNumber), and fmt's %v of the decoded values.

Error texts are Go's for what the API answers are likely to get wrong: an empty or cut-off body
(EOF, unexpected EOF), a value of the wrong type (json: cannot unmarshal ...), and the common
syntax errors (invalid character 'x' looking for beginning of value, after object key, ...).
Go words a few rarer syntax errors differently (inside literals and numbers); the stand-in then
says what the nearest common case says."""

import re

from standin.goruntime import GoError

_WHITESPACE = " \t\r\n"
# Patterns, compiled (and cached by re) on first use.
_STRING_ESCAPED = '[\x00-\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]'
_SHORT_STRING_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                         "\b": "\\b", "\f": "\\f"}
_SHORT_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t", "\v": "\\v", "\\": "\\\\"}
_LONE_SURROGATE = "[\ud800-\udfff]"
_KINDS = ((bool, "bool"), (str, "string"), (list, "array"), (dict, "object"))
_SYNTAX_CONTEXTS = (
    ("Expecting value", "looking for beginning of value"),
    ("Expecting property name", "looking for beginning of object key string"),
    ("Expecting ':' delimiter", "after object key"),
    ("Invalid control character", "in string literal"),
    ("Invalid \\uXXXX escape", "in \\u hexadecimal character escape"),
    ("Invalid \\escape", "in string escape code"),
)


class Number(str):
    """json.Number: a number kept as its literal text."""


class Fields(list):
    """A Go struct's value for json.Marshal: (JSON name, value) pairs, kept in field order."""


class Struct:
    """A Go struct type for decoding: its Go type name and JSON fields (name -> kind), where a
    kind is "string", "int" or another Struct."""

    def __init__(self, go_type, fields):
        self.go_type = go_type
        self.name = go_type.rsplit(".", 1)[-1]
        self.fields = dict(fields)


MAP = "map"  # map[string]interface{}, like internal.Record


def marshal(value):
    """json.Marshal: compact, map keys sorted, <, > and & escaped as \\u003c \\u003e \\u0026."""
    if isinstance(value, Number):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _marshal_string(value)
    if isinstance(value, Fields):
        return "{%s}" % ",".join(_marshal_string(key) + ":" + marshal(item) for key, item in value)
    if isinstance(value, dict):
        return "{%s}" % ",".join(_marshal_string(key) + ":" + marshal(value[key])
                                 for key in sorted(value))
    return "[%s]" % ",".join(marshal(item) for item in value)


def _marshal_string(text):
    """encoding/json's string: quotes, backslashes and control characters escaped (as \\n, \\b
    ..., else \\u00XX), <, >, &, U+2028 and U+2029 too; a lone surrogate becomes U+FFFD."""
    if text.isascii() and text.isprintable() and not any(char in '"\\<>&' for char in text):
        return '"' + text + '"'
    return '"' + re.sub(_STRING_ESCAPED, _string_escape, text) + '"'


def _string_escape(match):
    char = match.group(0)
    if char in _SHORT_STRING_ESCAPES:
        return _SHORT_STRING_ESCAPES[char]
    if "\ud800" <= char <= "\udfff":
        return "\\ufffd"  # as Go writes invalid UTF-8
    return "\\u%04x" % ord(char)


def decode(text, kind, read_error=None):
    """Decoder.Decode of the first JSON value in text into kind (a Struct or MAP), as Go does it:
    the dict of decoded fields (None for a JSON null into a map), or GoError. read_error is the
    error that cut text short, if one did."""
    value = read_value(text, 0, read_error)[0]
    return convert(value, kind)


def read_value(text, position, read_error=None):
    """The JSON value at position (after whitespace) and the position after it; GoError when
    there is none. read_error is the error that cut the text short (None: it ended cleanly)."""
    import json  # pylint: disable=import-outside-toplevel
    position = skip_whitespace(text, position)
    if position >= len(text):
        raise read_error or GoError("EOF")
    decoder = json.JSONDecoder(parse_int=Number, parse_float=Number,
                               parse_constant=_reject_constant)
    try:
        return decoder.raw_decode(text, position)
    except json.JSONDecodeError as error:
        raise _syntax_error(text, error, read_error) from None
    except _Constant as error:
        raise GoError("invalid character %s looking for beginning of value"
                      % quote_char(error.args[0])) from None


def skip_whitespace(text, position):
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


class _Constant(ValueError):
    """NaN, Infinity and -Infinity, which Python reads and Go does not."""


def _reject_constant(name):
    raise _Constant(name.lstrip("-")[0])


def _syntax_error(text, error, read_error):
    position = error.pos
    if position >= len(text) or error.msg.startswith("Unterminated string") \
            or _cut_short(text[position:]):
        return read_error or GoError("unexpected EOF")
    context = dict(_SYNTAX_CONTEXTS).get(error.msg)
    if context is None:
        context = next((words for start, words in _SYNTAX_CONTEXTS if error.msg.startswith(start)),
                       None)
    if error.msg == "Expecting ',' delimiter":
        context = "after %s" % ("object key:value pair" if _in_object(text, position)
                                else "array element")
    return GoError("invalid character %s %s" % (quote_char(text[position]),
                                                context or "looking for beginning of value"))


def _cut_short(rest):
    """Whether the text from the error on is the start of a literal or number the end cut off."""
    return any(literal.startswith(rest) for literal in ("null", "true", "false", "-"))


def _in_object(text, position):
    """Whether position lies directly inside an object (not an array), scanning from the start."""
    stack, in_string, escaped = [], False, False
    for char in text[:position]:
        if in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append(char)
        elif char in "]}" and stack:
            stack.pop()
    return bool(stack) and stack[-1] == "{"


def quote_char(char):
    """encoding/json's quoteChar of the byte where the syntax error is: 'x', '\\'', '"',
    Go escapes for what does not print (a non-ASCII character shows as its first UTF-8 byte)."""
    byte = char.encode("utf-8", "surrogatepass")[0]
    char = chr(byte)
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    if char in _SHORT_ESCAPES:
        return "'%s'" % _SHORT_ESCAPES[char]
    if char.isprintable():
        return "'%s'" % char
    return "'\\x%02x'" % byte if byte < 0x80 else "'\\u%04x'" % byte


def convert(value, kind, struct=None, path=()):
    """What decoding value into kind yields, or GoError (json.UnmarshalTypeError) for the first
    value of the wrong type. Keys match struct fields as Go matches them: exactly, else ignoring
    case."""
    if value is None:
        return _zero(kind)
    if kind == MAP or isinstance(kind, Struct):
        if not isinstance(value, dict):
            raise _type_error(value, kind, struct, path)
        if kind == MAP:
            return {key: _clean(item) for key, item in value.items()}
        return _convert_struct(value, kind, path)
    if kind == "string":
        if not isinstance(value, str) or isinstance(value, Number):
            raise _type_error(value, kind, struct, path)
        return _without_surrogates(value)
    if not isinstance(value, Number) or not re.fullmatch(r"-?\d+", value) \
            or not -(1 << 63) <= int(value) < (1 << 63):
        raise _type_error(value, kind, struct, path, number_text=True)
    return int(value)


def _convert_struct(value, kind, path):
    result = _zero(kind)
    first_error = None
    for key, item in value.items():
        name = key if key in kind.fields else next(
            (field for field in kind.fields if field.casefold() == key.casefold()), None)
        if name is None or item is None:  # a null leaves the field as it is
            continue
        try:
            result[name] = convert(item, kind.fields[name], kind, path + (name,))
        except GoError as error:
            first_error = first_error or error
    if first_error:
        raise first_error
    return result


def _zero(kind):
    if isinstance(kind, Struct):
        return {name: _zero(field) for name, field in kind.fields.items()}
    return {"string": "", "int": 0}.get(kind)


def _without_surrogates(text):
    return text if text.isascii() else re.sub(_LONE_SURROGATE, "\ufffd", text)


def _clean(value):
    """Decoded values as Go holds them: lone surrogates from \\u escapes become U+FFFD."""
    if isinstance(value, str) and not isinstance(value, Number):
        return _without_surrogates(value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    return value


def _type_error(value, kind, struct, path, number_text=False):
    if isinstance(value, Number):
        found = "number " + value if number_text else "number"
    else:
        found = next(name for python_type, name in _KINDS if isinstance(value, python_type))
    go_type = {"string": "string", "int": "int", MAP: "internal.Record"}.get(kind) \
        or kind.go_type
    if path:
        return GoError("json: cannot unmarshal %s into Go struct field %s.%s of type %s"
                       % (found, struct.name, ".".join(path), go_type))
    return GoError("json: cannot unmarshal %s into Go value of type %s" % (found, go_type))


def go_v(value):
    """fmt's %v of a decoded JSON value: json.Number's literal, <nil>, [a b], map[k:v]."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, list):
        return "[%s]" % " ".join(go_v(item) for item in value)
    return "map[%s]" % " ".join("%s:%s" % (key, go_v(value[key])) for key in sorted(value))
