"""hauser's HTTP client, net/http's default Client and Transport with net/url's parsing, as the
stand-in needs them: URLs as url.Parse reads them, the Client's redirects, the Transport's checks
and where it may connect, and Go's texts for what goes wrong (`parse "…": …`, `Post "…":
unsupported protocol scheme ""`, ...). wire.py then makes the exchange on the connection.

DEVIATION, the stand-in's rule for the network: it sends traffic to loopback only. A URL whose
host is not a loopback address written literally (127.0.0.0/8, [::1]) nor the name localhost is
neither resolved nor dialled: after UNREACHABLE_SECONDS the request fails as a Go dial fails when
no answer ever comes, `dial tcp: lookup api.fullstory.com: i/o timeout` for a name and `dial tcp
192.0.2.7:443: i/o timeout` for an address. (10 s is what a lookup takes when its name server
never answers, at resolv.conf's defaults of 5 s and 2 attempts.) So with the default ApiURL,
https://api.fullstory.com, every export fails this way and goes through hauser's backoff.
localhost is dialled as 127.0.0.1 without a lookup (Go would also try ::1); proxy variables are
ignored (Go does not proxy loopback either); https verifies the server against the system's CAs
but speaks HTTP/1.1 only."""

import time

from standin.goruntime import GoError, go_quote

# ipaddress and wire (the connection itself: socket, ssl, http.client) are imported when first
# needed: a stand-in whose every request goes off loopback (the default ApiURL) never loads them.

# How long a request to a host that is not loopback takes to fail; tests may set it lower.
UNREACHABLE_SECONDS = 10
_MAX_REDIRECTS = 10
_REDIRECT_CODES = (301, 302, 303, 307, 308)
TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HOST_CHARS = frozenset("!$&'()*+,;=:[]<>\"-_.~0123456789"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_PATH_CHARS = frozenset("!$&'()*+,;=:@/-_.~%0123456789"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SCHEME_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SCHEME_REST = _SCHEME_FIRST | frozenset("0123456789+-.")


class Url:
    """A parsed net/url.URL: what the stand-in needs of it."""

    def __init__(self, scheme="", user="", host="", path="", query=None, opaque=None):
        self.scheme, self.user, self.host, self.path = scheme, user, host, path
        self.query, self.opaque = query, opaque

    def hostname(self):
        """URL.Hostname(): the host without port and brackets."""
        host = self.host
        if host.startswith("["):
            return host[1:host.index("]")]
        return host.rsplit(":", 1)[0] if ":" in host else host

    def port(self):
        host = self.host
        colon_port = host[host.index("]") + 1:] if host.startswith("[") else (
            host[host.rindex(":"):] if ":" in host else "")
        if len(colon_port) > 1:
            return int(colon_port[1:])
        return 443 if self.scheme == "https" else 80

    def request_uri(self):
        """URL.RequestURI(): the path as sent (escaped where Go escapes it), and the query."""
        path = self.opaque if self.opaque is not None else (_escape_path(self.path) or "/")
        return path + ("?" + self.query if self.query is not None else "")

    def string(self, mask_password=False):
        """URL.String(); with mask_password the password shows as *** (as in Go's url.Error)."""
        if self.opaque is not None:
            return self.scheme + ":" + self.opaque + self._query()
        text = self.scheme + ":" if self.scheme else ""
        if self.scheme or self.host or self.user:
            user = self.user
            if mask_password and ":" in user:
                user = user.split(":", 1)[0] + ":***"
            text += "//" + (user + "@" if user else "") + self.host
        return text + _escape_path(self.path) + self._query()

    def _query(self):
        return "?" + self.query if self.query is not None else ""


class Response:
    """An answer: status_code, status ("401 Unauthorized" as the server said it), headers, body,
    and body_error, the GoError that cut the body short (None when it came whole)."""

    def __init__(self, status_code, status, headers, body, body_error):
        self.status_code, self.status, self.headers = status_code, status, headers
        self.body, self.body_error = body, body_error


def parse(text):
    """url.Parse, or GoError `parse "<text>": <reason>`."""
    raw = text.split("#", 1)[0]
    try:
        return _parse(raw)
    except ValueError as error:
        raise GoError("parse %s: %s" % (go_quote(raw), error)) from None


def _parse(raw):
    if any(char < " " or char == "\x7f" for char in raw):
        raise ValueError("net/url: invalid control character in URL")
    scheme, rest = _scheme(raw)
    query = None
    if rest.endswith("?") and rest.count("?") == 1:
        rest, query = rest[:-1], ""
    elif "?" in rest:
        rest, query = rest.split("?", 1)
    if not rest.startswith("/"):
        if scheme:
            return Url(scheme, query=query, opaque=rest)
        if ":" in rest.split("/", 1)[0]:
            raise ValueError("first path segment in URL cannot contain colon")
    url = Url(scheme, query=query)
    if rest.startswith("//") and (scheme or not rest.startswith("///")):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        url.user, url.host = _authority(authority)
    url.path = rest
    return url


def _scheme(raw):
    """url.getScheme: the scheme (lowercased, as Parse keeps it) and the rest."""
    for index, char in enumerate(raw):
        if char == ":":
            if index == 0:
                raise ValueError("missing protocol scheme")
            return raw[:index].lower(), raw[index + 1:]
        if char not in (_SCHEME_FIRST if index == 0 else _SCHEME_REST):
            return "", raw
    return "", raw


def _authority(authority):
    user, at, host = authority.rpartition("@")
    if host.startswith("["):
        if "]" not in host:
            raise ValueError("missing ']' in host")
        _check_port(host[host.rindex("]") + 1:])
    elif ":" in host:
        _check_port(host[host.rindex(":"):])
    for char in host:
        if char < "\x80" and char not in _HOST_CHARS and char != "%":
            raise ValueError("invalid character %s in host name" % go_quote(char))
    return (user if at else ""), host


def _check_port(colon_port):
    if colon_port and not (colon_port[0] == ":" and colon_port[1:].isdigit()
                           or colon_port == ":"):
        raise ValueError("invalid port %s after host" % go_quote(colon_port))


def _escape_path(path):
    """URL.EscapedPath for the paths hauser builds: what may not stand in a path, %-escaped."""
    return "".join(char if char in _PATH_CHARS else "".join(
        "%%%02X" % byte for byte in char.encode("utf-8", "surrogatepass")) for char in path)


def request(method, url_text, headers=None, body=None):
    """http.Client.Do(http.NewRequest(method, url_text, body)) with headers set on the request,
    redirects followed as Go follows them; a Response, or GoError."""
    url = parse(url_text)
    return _follow(method, url, dict(headers or {}), body)


def _follow(method, url, headers, body):
    hops, hop_headers = 0, headers
    while True:
        response = _round_trip(method, url, hop_headers, body)
        location = response.headers.get("Location")
        if response.status_code not in _REDIRECT_CODES or not location:
            return response
        if response.status_code in (301, 302, 303) and method not in ("GET", "HEAD"):
            method, body = "GET", None
        try:
            target = _resolve(url, location)
        except GoError as error:
            raise url_error(method, url, "failed to parse Location header %s: %s"
                            % (go_quote(location), error)) from None
        hops += 1
        if hops >= _MAX_REDIRECTS:
            raise GoError("%s %s: stopped after %d redirects"
                          % (op(method), go_quote(location), _MAX_REDIRECTS))
        hop_headers = dict(headers)
        if "Referer" not in headers and not (url.scheme == "https" and target.scheme == "http"):
            hop_headers["Referer"] = Url(url.scheme, "", url.host, url.path, url.query).string()
        url = target


def _resolve(base, location):
    """URL.Parse(location) relative to base: enough of RFC 3986 for Location headers."""
    target = parse(location)
    if target.scheme:
        return target
    if target.host or location.startswith("//"):
        target.scheme = base.scheme
        return target
    target.scheme, target.user, target.host = base.scheme, base.user, base.host
    if not target.path:
        target.path = base.path
        if target.query is None:
            target.query = base.query
    elif not target.path.startswith("/"):
        target.path = base.path.rsplit("/", 1)[0] + "/" + target.path
    return target


def _round_trip(method, url, headers, body):
    """Transport.RoundTrip, its checks in Go's order, then one exchange on a new connection."""
    if url.scheme in ("http", "https"):
        _check_headers(method, url, headers)
    if url.scheme not in ("http", "https"):
        raise url_error(method, url, "unsupported protocol scheme %s" % go_quote(url.scheme))
    if not url.host:
        raise url_error(method, url, "http: no Host in request URL")
    address = loopback_address(url.hostname())
    if address is None:
        raise url_error(method, url, unreachable(url))
    from standin import wire  # pylint: disable=import-outside-toplevel
    return wire.exchange(method, url, address, headers, body)


def _check_headers(method, url, headers):
    for name in sorted(headers):
        if not name or any(char not in TOKEN_CHARS for char in name):
            raise url_error(method, url, "net/http: invalid header field name %s" % go_quote(name))
        if any((char < " " and char != "\t") or char == "\x7f" for char in headers[name]):
            # The value is never shown: it may be the Authorization header's token.
            raise url_error(method, url, "net/http: invalid header field value for %s"
                            % go_quote(name))


def loopback_address(host):
    """The address (text) the stand-in may dial for host, or None: only loopback written
    literally, and localhost (as 127.0.0.1). Nothing is ever looked up."""
    if host.lower() == "localhost":
        return "127.0.0.1"
    address = _ip_address(host)
    if address is None:
        return None
    if address.version == 4:
        return str(address) if address.packed[0] == 127 else None
    return str(address) if address.packed == bytes(15) + b"\x01" else None


def _ip_address(host):
    """ipaddress.ip_address(host) for an IP literal (as strict as Go's net.ParseIP), else None."""
    if ":" not in host and any(char not in "0123456789." for char in host):
        return None  # a name: no need to load ipaddress
    import ipaddress  # pylint: disable=import-outside-toplevel
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def unreachable(url):
    """Wait as a dial to a host out of reach waits, and return Go's text for its failure."""
    wait_unreachable()
    host = url.hostname()
    if _ip_address(host) is None:
        return "dial tcp: lookup %s: i/o timeout" % host
    return "dial tcp %s: i/o timeout" % host_port(host, url.port())


def wait_unreachable():
    time.sleep(UNREACHABLE_SECONDS)


def host_port(address, port):
    return ("[%s]:%d" if ":" in address else "%s:%d") % (address, port)


def op(method):
    return method[:1] + method[1:].lower()


def url_error(method, url, message):
    """url.Error as http.Client returns it: `Post "<url>": <message>`, any password masked."""
    return GoError("%s %s: %s" % (op(method), go_quote(url.string(mask_password=True)), message))
