# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A supervisord event listener that writes each org's hauser output with the org named.

hauser's log lines carry no org id, and supervisord writes its children's output to the container's
stdout without any prefix. This listener receives PROCESS_LOG events and writes
``[org_id] line`` to its stderr, which supervisord sends to the container's stdout.
"""

from __future__ import absolute_import, division, print_function

import sys

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import Layout


def fields(line):
    return dict(field.split(":", 1) for field in line.split())


def main(stdin, stdout, stderr):
    while True:
        stdout.write("READY\n")
        stdout.flush()
        header = fields(stdin.readline())
        payload = stdin.read(int(header["len"]))
        head, data = (payload.split("\n", 1) + [""])[:2]
        name = fields(head).get("processname", "?")
        org = Layout.org_of_program(name) or name
        for line in data.splitlines():
            stderr.write("[%s] %s\n" % (org, line))
        stderr.flush()
        stdout.write("RESULT 2\nOK")
        stdout.flush()


if __name__ == "__main__":
    main(sys.stdin, sys.stdout, sys.stderr)
