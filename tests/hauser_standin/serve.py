"""Serve built stand-in release files on loopback, under GitHub's release URL layout:

    /fullstorydev/hauser/releases/download/v<version>/<asset>  ->  DIR/<asset>

for assets named `<name>_<version>_<rest>`, such as hauser_1.5.1_linux_x86_64.tar.gz; anything
else is 404. Requests are logged to stderr.

    python3 tests/hauser_standin/serve.py --dir DIR --port PORT [--bind 127.0.0.1] [--port-file F]

Tests use serving(DIR) instead: a server on an ephemeral port in a thread.
"""

import argparse
import contextlib
import functools
import ipaddress
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DOWNLOAD_PREFIX = "/fullstorydev/hauser/releases/download"
_ASSET_PATH = re.compile(
    re.escape(DOWNLOAD_PREFIX) + r"/v(?P<version>\d+\.\d+\.\d+)/(?P<asset>[A-Za-z0-9._-]+)"
)


class ReleaseHandler(BaseHTTPRequestHandler):
    """GET and HEAD of release assets found in self.directory."""

    def __init__(self, *args, directory, **kwargs):
        self.directory = directory
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self._send(with_body=True)

    def do_HEAD(self):
        self._send(with_body=False)

    def _send(self, with_body):
        path = self._asset_path()
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        data = path.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def _asset_path(self):
        match = _ASSET_PATH.fullmatch(self.path.split("?", 1)[0])
        if not match:
            return None
        version, asset = match.group("version", "asset")
        if asset.split("_")[1:2] != [version]:
            return None
        path = self.directory / asset
        return path if path.is_file() else None


def make_server(directory, port=0, bind="127.0.0.1"):
    """A server for directory's release files on bind:port (0: any free port); IPv4 loopback only."""
    address = ipaddress.ip_address(bind)
    if address.version != 4 or not address.is_loopback:
        raise ValueError("refusing to serve on %s: only 127.0.0.0/8 addresses" % bind)
    handler = functools.partial(ReleaseHandler, directory=Path(directory).resolve())
    return ThreadingHTTPServer((bind, port), handler)


def base_url(server):
    host, port = server.server_address[:2]
    return "http://%s:%d" % (host, port)


@contextlib.contextmanager
def serving(directory):
    """Serve directory on an ephemeral loopback port for the with block; yield the base URL."""
    server = make_server(directory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--dir", required=True, type=Path, help="directory of release files")
    parser.add_argument("--port", required=True, type=int, help="port; 0 picks a free one")
    parser.add_argument("--bind", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument("--port-file", type=Path, help="write the port here once listening")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.dir, args.port, args.bind)
    except ValueError as error:
        parser.error(str(error))
    if args.port_file:
        args.port_file.write_text("%d\n" % server.server_address[1])
    sys.stderr.write("serving %s at %s%s\n" % (args.dir, base_url(server), DOWNLOAD_PREFIX))
    sys.stderr.flush()
    with server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
