"""What hauser 1.5.1 does with a downloaded export (internal/service.go, warehouse/warehouse.go):
gunzip it (compress/gzip), read its JSON array record by record (WriteBundleToCSV's
json.Decoder with UseNumber), turn each record into a row (transformExportJSONRecord with
warehouse.ValueToString) and write the rows as encoding/csv does.

A download is read whole, then handled as Go's streaming readers would handle it: a Stream holds
the bytes a reader yields and the error it then returns, and that error shows where Go's decoder
would have needed more bytes than came (so a gzip checksum error after the last record goes as
unnoticed as it does in hauser)."""

import struct
import zlib

from standin import gojson, gotime
from standin.goruntime import GoError, log

_CHUNK = 1 << 16
# unicode.IsSpace: the first character of a CSV field that makes encoding/csv quote it.
_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
                       + "".join(map(chr, range(0x2000, 0x200B))))
_ZERO_TIME = "0001-01-01T00:00:00Z"


class Stream:
    """What reading an io.Reader to its end gives: data, then error (None for a clean io.EOF)."""

    def __init__(self, data, error=None):
        self.data, self.error = data, error


def new_gzip_reader(body, body_error):
    """gzip.NewReader on the download, then reading it through: GoError at once for what fails
    NewReader (the first header), else the Stream of the unpacked bytes."""
    try:
        _header_end(body)
    except GoError as error:
        raise (body_error if error.args[0] in ("EOF", "unexpected EOF") and body_error
               else error) from None
    data, error = gunzip_all(body)
    if error is not None and error.args[0] == "unexpected EOF" and body_error is not None:
        error = body_error  # the body ran out first
    return Stream(data, error)


def gunzip_all(data):
    """A multistream gzip.Reader read to its end: (bytes, GoError or None). Every byte inflated
    before an error is kept, as Go's reader hands it out before the error."""
    out, position = [], 0
    while True:
        try:
            position = _header_end(data, position)
        except GoError as error:
            return b"".join(out), (None if error.args[0] == "EOF" and out else error)
        inflater = zlib.decompressobj(-15)
        member = []
        try:
            for start in range(position, len(data), _CHUNK):
                member.append(inflater.decompress(data[start:start + _CHUNK]))
                if inflater.eof:
                    break
        except zlib.error:
            return b"".join(out + member), GoError(
                "flate: corrupt input before offset %d" % (start - position))
        out.extend(member)
        if not inflater.eof:
            return b"".join(out), GoError("unexpected EOF")
        trailer = inflater.unused_data[:8]
        if len(trailer) < 8:
            return b"".join(out), GoError("unexpected EOF")
        unpacked = b"".join(member)
        if trailer != struct.pack("<II", zlib.crc32(unpacked), len(unpacked) & 0xFFFFFFFF):
            return b"".join(out), GoError("gzip: invalid checksum")
        position = len(data) - len(inflater.unused_data) + 8


def _header_end(data, position=0):
    """gzip.Reader.readHeader: where the member's deflate data begins; EOF when there is no
    member at all, else GoError as Go's."""
    if position >= len(data):
        raise GoError("EOF")
    if len(data) - position < 10:
        raise GoError("unexpected EOF")
    if data[position:position + 3] != b"\x1f\x8b\x08":
        raise GoError("gzip: invalid header")
    flags, end = data[position + 3], position + 10
    if flags & 4:  # FEXTRA
        if len(data) < end + 2:
            raise GoError("unexpected EOF")
        end += 2 + struct.unpack("<H", data[end:end + 2])[0]
    for flag in (8, 16):  # FNAME, FCOMMENT: zero-terminated
        if flags & flag:
            zero = data.find(b"\0", end)
            if zero < 0:
                raise GoError("unexpected EOF")
            end = zero + 1
    if flags & 2:  # FHCRC
        end += 2
        if struct.pack("<H", zlib.crc32(data[position:end - 2]) & 0xFFFF) != data[end - 2:end]:
            raise GoError("gzip: invalid header")
    if end > len(data):
        raise GoError("unexpected EOF")
    return end


def write_bundle_to_csv(stream, schema, out):
    """HauserService.WriteBundleToCSV: the header row of DB names, then a row per record; its
    log line and GoError where decoding fails. The number of records."""
    out.write(csv_line([field[0] for field in schema]))
    reader = _ArrayReader(stream.data.decode("utf-8", "replace"), stream.error)
    _logged("Failed json decode of array open token: %s", reader.open_token)
    names = {field[1].lower() for field in schema if field[1]}
    count = 0
    while reader.more():
        record = _logged("failed json decode of record: %s", reader.record)
        out.write(csv_line(transform(schema, names, record)))
        count += 1
    _logged("Failed json decode of array close token: %s", reader.close_token)
    return count


def _logged(message, step):
    try:
        return step()
    except GoError as error:
        log(message % error)
        raise


class _ArrayReader:
    """json.Decoder's Token, More and Decode over an export, as WriteBundleToCSV calls them."""

    def __init__(self, text, read_error):
        self.text, self.read_error = text, read_error
        self.position, self.state = 0, None  # state: "array", "comma" (after a record), "top"

    def open_token(self):
        """Decoder.Token(): hauser takes any first token for the array's [."""
        self.position = gojson.skip_whitespace(self.text, self.position)
        char = self.text[self.position:self.position + 1]
        if char == "[":
            self.position += 1
            self.state = "array"
        elif char == "{":
            self.position += 1
            self.state = "object"
        else:
            self.position = gojson.read_value(self.text, self.position, self.read_error)[1]
            self.state = "top"

    def more(self):
        """Decoder.More(): not at the end, nor at ] or }."""
        char = self._peek()
        return char is not None and char not in "]}"

    def record(self):
        """Decoder.Decode(&r) into internal.Record."""
        if self.state == "object":
            raise GoError("not at beginning of value")
        if self.state == "comma":
            if self._peek() != ",":
                raise GoError("expected comma after array element")
            self.position += 1
        value, self.position = gojson.read_value(self.text, self.position, self.read_error)
        if self.state != "top":
            self.state = "comma"
        return gojson.convert(value, gojson.MAP)

    def close_token(self):
        """Decoder.Token() once More() said no: the ] (or, after a top-level value, the end)."""
        char = self._peek()
        if char is None:
            raise self.read_error or GoError("EOF")
        expected = "}" if self.state == "object" else "]"
        if char != expected or self.state == "top":
            context = "after array element" if self.state == "comma" else \
                "looking for beginning of value"
            raise GoError("invalid character %s %s" % (gojson.quote_char(char), context))
        self.position += 1

    def _peek(self):
        self.position = gojson.skip_whitespace(self.text, self.position)
        return self.text[self.position] if self.position < len(self.text) else None


def transform(schema, names, record):
    """transformExportJSONRecord: the row for a record, in schema order; fields the schema does
    not name go, as JSON, into CustomVars."""
    lowered, custom = {}, {}
    for key, value in (record or {}).items():
        if key.lower() in names:
            lowered[key.lower()] = value
        else:
            custom[key] = value
    line = []
    for db_name, full_story_name, is_time in schema:
        if not full_story_name:
            line.append("")
        elif db_name == "CustomVars":
            line.append(gojson.marshal(custom))
        elif full_story_name.lower() in lowered:
            line.append(value_to_string(lowered[full_story_name.lower()], is_time))
        else:
            line.append("")
    return line


def value_to_string(value, is_time):
    """warehouse.ValueToString: %v; a time re-written as RFC3339Micro (the zero time when it does
    not parse); newlines as spaces, NULs dropped."""
    text = gojson.go_v(value)
    if is_time:
        try:
            return gotime.format_rfc3339(gotime.parse_rfc3339(text), fraction_digits=6)
        except GoError:
            return _ZERO_TIME
    return text.replace("\n", " ").replace("\r", " ").replace("\x00", "")


def csv_line(fields):
    """csv.Writer.Write with Comma ',' and UseCRLF false."""
    return ",".join('"%s"' % field.replace('"', '""') if _needs_quotes(field) else field
                    for field in fields) + "\n"


def _needs_quotes(field):
    if not field:
        return False
    return field == "\\." or any(char in field for char in ',"\r\n') or field[0] in _GO_SPACES
