"""One HTTP/1.1 exchange on a new loopback connection, as Go's Transport makes it: the request
bytes Go's Request.write puts on the wire (Host, User-Agent: Go-http-client/1.1, Content-Length,
the headers sorted, Accept-Encoding: gzip), the answer read back (and unpacked if gzip'd, as Go
does when it asked for gzip), and Go's texts for what fails on the way (`dial tcp 127.0.0.1:9:
connect: connection refused`, `EOF`, `read tcp ...->...: read: connection reset by peer`).

network.py decides whether and where to connect; this module only ever connects to the loopback
address it is given."""

import http.client
import socket

from standin import network
from standin.goruntime import GoError, go_quote

USER_AGENT = "Go-http-client/1.1"
# Header fields Go writes itself, whatever the request's Header map holds.
_WRITTEN_BY_GO = ("Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer")


def exchange(method, url, address, headers, body):
    """Transport.RoundTrip's part after its checks: connect to address, send, read the answer."""
    sock = _connect(method, url, address)
    try:
        sock.sendall(_request_bytes(method, url, headers, body))
        return _read_response(method, url, sock, headers)
    except OSError as error:
        raise network.url_error(method, url, _socket_error(sock, "write", error)) from None
    finally:
        sock.close()


def _connect(method, url, address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    port = url.port()
    if port > 65535:
        raise network.url_error(method, url, "dial tcp: address %d: invalid port" % port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.connect((address, port))
    except OSError as error:
        sock.close()
        raise network.url_error(method, url, "dial tcp %s: connect: %s"
                                % (network.host_port(address, port), _reason(error))) from None
    if url.scheme == "https":
        sock = _tls(method, url, sock)
    return sock


def _tls(method, url, sock):
    import ssl  # pylint: disable=import-outside-toplevel
    context = ssl.create_default_context()
    try:
        return context.wrap_socket(sock, server_hostname=url.hostname())
    except ssl.SSLCertVerificationError:
        sock.close()
        message = "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    except (ssl.SSLError, OSError) as error:
        sock.close()
        message = "remote error: tls: %s" % (getattr(error, "reason", None) or "handshake failure")
    raise network.url_error(method, url, message)


def _request_bytes(method, url, headers, body):
    """The request as Go's Request.write puts it on the wire."""
    fields = {name: value for name, value in headers.items() if name not in _WRITTEN_BY_GO}
    lines = ["%s %s HTTP/1.1" % (method, url.request_uri()), "Host: " + url.host]
    user_agent = headers.get("User-Agent", USER_AGENT)
    if user_agent:
        lines.append("User-Agent: " + user_agent)
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    lines.extend("%s: %s" % (name, fields[name].strip(" \t")) for name in sorted(fields))
    if "Accept-Encoding" not in headers and "Range" not in headers:
        lines.append("Accept-Encoding: gzip")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + (body or b"")


def _read_response(method, url, sock, headers):
    response = http.client.HTTPResponse(sock, method=method)
    try:
        response.begin()
    except http.client.RemoteDisconnected:
        raise network.url_error(method, url, "EOF") from None
    except http.client.BadStatusLine as error:
        line = str(error.args[0] if error.args else "").strip()
        raise network.url_error(method, url, "malformed HTTP response %s"
                                % go_quote(line)) from None
    except http.client.HTTPException:
        raise network.url_error(method, url, "malformed HTTP response") from None
    except OSError as error:
        raise network.url_error(method, url, _socket_error(sock, "read", error)) from None
    body, body_error = _read_body(sock, response)
    status = ("%d %s" % (response.status, response.reason)).rstrip(" ")
    if "Accept-Encoding" not in headers and _is_gzip(response):
        # Go asked for gzip itself, so it unpacks the body on the fly.
        from standin import bundle  # pylint: disable=import-outside-toplevel
        body, gzip_error = bundle.gunzip_all(body)
        body_error = body_error or gzip_error
    return network.Response(response.status, status, response.headers, body, body_error)


def _read_body(sock, response):
    try:
        return response.read(), None
    except http.client.IncompleteRead as error:
        return error.partial, GoError("unexpected EOF")
    except OSError as error:
        return b"", GoError(_socket_error(sock, "read", error))


def _is_gzip(response):
    return (response.headers.get("Content-Encoding") or "").lower() == "gzip"


def _socket_error(sock, operation, error):
    """Go's *net.OpError for a read or write on an open connection."""
    try:
        local, remote = sock.getsockname(), sock.getpeername()
        where = " %s->%s" % (network.host_port(*local[:2]), network.host_port(*remote[:2]))
    except OSError:
        where = ""
    return "%s tcp%s: %s: %s" % (operation, where, operation, _reason(error))


def _reason(error):
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    reason = error.strerror or str(error) or type(error).__name__
    return reason[:1].lower() + reason[1:]
