# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitor, as supervisord runs it: an event listener (see core/monitoring.py).

    python3 monitor.py [CONFIG]        (default: /etc/multi-hauser/monitor.json)

The collection's module_utils/core package lies beside this file, as for the image's entrypoint.
"""

from __future__ import absolute_import, division, print_function

import sys

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import (
    CONFIG_PATH,
    Monitor,
    MonitorError,
    run_listener,
)


def main(argv):
    try:
        run_listener(Monitor(argv[1] if len(argv) > 1 else CONFIG_PATH), sys.stdin.buffer, sys.stdout.buffer)
    except MonitorError as error:  # no config: said, and supervisord tries again
        sys.stderr.write("multi-hauser-monitor: %s\n" % error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
