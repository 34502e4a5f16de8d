"""Counts each org's hauser processes (by their command lines: python3 <binary> -c <base>/<org>/config.toml)
every 50 ms until the file STOP exists, and writes the most seen at once per org to OUT (JSON).

    python3 watch.py OUT STOP
"""

import json
import os
import sys
import time

PREFIX = "/var/lib/multi-hauser/"


def counts():
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if "-c" in argv[:-1]:
            config = argv[argv.index("-c") + 1]
            if config.startswith(PREFIX) and config.endswith("/config.toml"):
                org_id = config[len(PREFIX):-len("/config.toml")]
                found[org_id] = found.get(org_id, 0) + 1
    return found


def main(out, stop):
    most = {}
    while not os.path.exists(stop):
        for org_id, count in counts().items():
            most[org_id] = max(most.get(org_id, 0), count)
        with open(out + ".tmp", "w") as handle:
            json.dump(most, handle)
        os.rename(out + ".tmp", out)
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
