"""Run a built stand-in (its zipapp) in this Python with some of its module constants changed,
and optionally every socket call it makes recorded through an audit hook:

    python3 run_patched.py [--set MODULE.NAME=JSON]... [--audit FILE] HAUSER [ARG]...

For instance `--set standin.network.UNREACHABLE_SECONDS=0` makes a request to a host out of
reach fail at once instead of after 10 s. The audit file gets one JSON line per socket event:
["socket.connect", ["127.0.0.1", 8080]], ["socket.getaddrinfo", ["api.fullstory.com", 443]] ...
"""

import argparse
import importlib
import json
import runpy
import sys


def _record(audit_file):
    def hook(event, args):
        if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                     "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg", "socket.bind"):
            address = args[1] if event in ("socket.connect", "socket.sendto", "socket.bind") \
                else args[:2]
            audit_file.write(json.dumps([event, list(address) if isinstance(address, tuple)
                                         else repr(address)]) + "\n")
    return hook


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--set", action="append", default=[], metavar="MODULE.NAME=JSON")
    parser.add_argument("--audit", help="append socket events to this file")
    parser.add_argument("hauser")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    sys.path.insert(0, options.hauser)
    for assignment in options.set:
        target, value = assignment.split("=", 1)
        module, name = target.rsplit(".", 1)
        setattr(importlib.import_module(module), name, json.loads(value))
    if options.audit:
        sys.addaudithook(_record(open(options.audit, "a", buffering=1, encoding="utf-8")))  # pylint: disable=consider-using-with
    sys.argv = [options.hauser] + options.args
    runpy.run_path(options.hauser, run_name="__main__")


if __name__ == "__main__":
    main()
