"""hauser's main: flags, -version, config.Load, start-up; then idle until a signal ends it."""

import os
import signal
import sys

from standin import config, flags, startup
from standin.build_info import VERSION
from standin.goruntime import Fatal, Panic, exit_fatal, exit_panic, go_string, log


def main(argv):
    # hauser handles no signal: SIGINT, like SIGTERM, ends it at once.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    config_path, print_version = flags.parse(argv[1:])
    if print_version:
        sys.stdout.write("%s %s\n" % (os.path.basename(argv[0]), VERSION))
        return 0
    try:
        conf = config.load(config_path)
        startup.start(conf)
    except Fatal as error:
        exit_fatal(error)
    except Panic as error:
        exit_panic(error)
    log(_running_line(config_path, conf))
    while True:
        signal.pause()


def _running_line(config_path, conf):
    return "hauser stand-in %s running: config=%s dir=%s provider=%s ExportDelay=%s token=%s" % (
        VERSION,
        os.path.abspath(config_path),
        os.getcwd(),
        conf["Provider"],
        go_string(conf["ExportDelay"]),
        config.token_source(conf),
    )
