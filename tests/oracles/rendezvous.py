"""The tests' own copy of the hashing the README documents for spreading orgs over hosts, written
from the README and not from the collection's code, so that the tests check the code against the
documentation: u = (first 8 bytes of sha256(org + "\\n" + host), big-endian, + 0.5) / 2**64; the
org goes to the host of weight > 0 with the highest -weight / ln(u) (ties: the greater host name);
a pin wins. Used by the unit tests (tests/unit) and the shard scenario (molecule/shard)."""

import hashlib
import math


def score(org_id, host, weight):
    digest = hashlib.sha256((org_id + "\n" + host).encode("utf-8")).digest()
    unit = (int.from_bytes(digest[:8], "big") + 0.5) / 2.0 ** 64
    return -weight / math.log(unit)


def documented_owner(org_id, weights):
    """The host of weight > 0 with the highest score."""
    return max((score(org_id, host, weight), host) for host, weight in weights.items() if weight > 0)[1]


def documented_assignment(org_ids, weights, pins=None):
    """org id -> host, pins first."""
    pins = pins or {}
    return dict((org_id, pins.get(org_id) or documented_owner(org_id, weights)) for org_id in org_ids)
