"""Print how long parsing and staggering a key file of 10,000 orgs takes.

Run: python tests/bench/bench_keyfile.py
The collection is imported from ANSIBLE_COLLECTIONS_PATH (tests/harness/bench.sh sets it), as the
controller and the container image import it.
"""

import os
import sys
import timeit

sys.path[:0] = [path for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path]

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.orgs import parse_keyfile  # noqa: E402
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.stagger import stagger_delays  # noqa: E402

ORG_COUNT = 10000
ROUNDS = 5

TEXT = "".join("o-%06d-na1,na1.%s%06d\r\n" % (index, "k" * 40, index) for index in range(ORG_COUNT))


def parse_and_stagger():
    return stagger_delays(parse_keyfile(TEXT, source="bench.csv"))


if __name__ == "__main__":
    assert len(parse_and_stagger()) == ORG_COUNT
    best = min(timeit.repeat(parse_and_stagger, number=1, repeat=ROUNDS))
    print("parse_keyfile + stagger_delays, %d orgs: %.1f ms (best of %d)" % (ORG_COUNT, best * 1000, ROUNDS))
