"""Stand-in for the get-pip bootstrap script that ansible-test downloads from a host that is not
reachable here. ansible-test runs it inside a fresh virtualenv with pip's install arguments (plus
get-pip's own --no-setuptools/--no-wheel flags); Python's bundled ensurepip and PyPI do the same job.
"""
import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}

config_file = os.environ.get("PIP_CONFIG_FILE")
ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null; the real install must see the machine's pip config.
if config_file is None:
    os.environ.pop("PIP_CONFIG_FILE", None)
else:
    os.environ["PIP_CONFIG_FILE"] = config_file
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"] + args))
