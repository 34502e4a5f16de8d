# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which host runs which org: weighted rendezvous (highest random weight) hashing.

Each (org, host) pair gets a pseudo-random number u in (0, 1) from SHA-256 of
``org_id + "\\n" + host``; the org goes to the host with the highest score ``-weight / ln(u)``.
The assignment needs no state and is stable: adding a host moves only the orgs it wins (about
1/n of them), removing one (or draining it with weight 0) moves only its own orgs. A pin sends an
org to a named host regardless of the hashing.

"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import math


class ShardError(ValueError):
    """Bad hosts, weights or pins."""


def score(org_id, host, weight):
    digest = hashlib.sha256((org_id + "\n" + host).encode("utf-8")).digest()
    unit = (int.from_bytes(digest[:8], "big") + 0.5) / 2.0 ** 64
    return -weight / math.log(unit)


def owner(org_id, weights):
    """The host that runs org_id: the highest score among hosts of weight > 0 (ties: by name)."""
    return max((score(org_id, host, weight), host) for host, weight in weights.items() if weight > 0)[1]


def assign_orgs(orgs, weights, pins=None):
    """Return new org dicts, each with ``host``: where it runs. weights maps host -> weight >= 0."""
    if not weights:
        raise ShardError("multi_hauser_shard_hosts: no hosts to run the orgs on")
    for host, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise ShardError("multi_hauser_shard_weight of %s must be a number of 0 or more" % host)
    if not any(weight > 0 for weight in weights.values()):
        raise ShardError("multi_hauser_shard_weight: every host has weight 0, so no host can run an org")
    pins = pins or {}
    org_ids = set(org["org_id"] for org in orgs)
    for org_id, host in sorted(pins.items()):
        if host not in weights:
            raise ShardError("multi_hauser_pins: org %s is pinned to %s, which is not one of the hosts (%s)"
                             % (org_id, host, ", ".join(sorted(weights))))
        if org_id not in org_ids:
            raise ShardError("multi_hauser_pins: org %s is pinned but is not one of the orgs" % org_id)
    assigned = []
    for org in orgs:
        org = dict(org)
        org["host"] = pins.get(org["org_id"]) or owner(org["org_id"], weights)
        assigned.append(org)
    return assigned
