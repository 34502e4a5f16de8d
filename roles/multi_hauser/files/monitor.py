# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitor, as supervisord runs it: an event listener (see core/monitoring.py).

    python3 monitor.py [CONFIG]            the listener (default: /etc/multi-hauser/monitor.json)
    python3 monitor.py --serve [CONFIG]    the image's /metrics server, as user nobody
                                           (default: /run/multi-hauser/metrics-server.json)

The collection's module_utils/core package lies beside this file, as for the image's entrypoint.
"""

from __future__ import absolute_import, division, print_function

import sys

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import (
    CONFIG_PATH,
    SERVER_CONFIG_PATH,
    Monitor,
    MonitorError,
    run_listener,
    run_server,
)


def main(argv):
    serve = argv[1:2] == ["--serve"]
    args = argv[2:] if serve else argv[1:]
    try:
        if serve:
            if not run_server(args[0] if args else SERVER_CONFIG_PATH):
                sys.stdout.write("multi-hauser-metrics: no MULTI_HAUSER_METRICS_PORT, no /metrics\n")
        else:
            run_listener(Monitor(args[0] if args else CONFIG_PATH), sys.stdin.buffer, sys.stdout.buffer)
    except MonitorError as error:  # no config: said, and supervisord tries again
        sys.stderr.write("multi-hauser-%s: %s\n" % ("metrics" if serve else "monitor", error))
        return 2
    except OSError as error:  # the port is taken, or the address not this host's
        sys.stderr.write("multi-hauser-metrics: cannot serve /metrics: %s\n" % error.strerror)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
