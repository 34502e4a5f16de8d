# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each org's ExportDelay: slots base + step x k, so that the orgs of a host do not all export at once.

Without previous delays, org i gets slot i mod (window // step); with them, an org keeps its
delay while it is still a slot, so that adding or removing an org restarts no other.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import heapq
from collections.abc import Mapping, Sequence

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.durations import (
    HOUR,
    SECOND,
    DurationError,
    format_duration,
    parse_duration,
)

MIN_EXPORT_DELAY = HOUR  # hauser refuses a smaller ExportDelay
# Bounds of the stagger, the one rule the role's settings and the image's entrypoint both apply:
# a step under a second or a base or window beyond a week is a mistake, not a plan.
MIN_STEP = SECOND
MAX_BASE = 7 * 24 * HOUR
MAX_WINDOW = 7 * 24 * HOUR


class StaggerError(ValueError):
    """An invalid option of stagger_delays."""


def _duration_option(name, value):
    if not isinstance(value, str):
        raise StaggerError('stagger_delays: %s must be a Go duration string such as "10m", got %s'
                           % (name, type(value).__name__))
    if len(value) > 64:
        raise StaggerError("stagger_delays: %s is too long for a duration" % name)
    try:
        return parse_duration(value)
    except DurationError as error:
        raise StaggerError("stagger_delays: %s is not a valid duration: %s" % (name, error)) from None


def _kept_slots(orgs, previous, base_ns, step_ns, slots):
    """org id -> slot, for orgs whose previous delay is still a slot that no earlier org kept;
    and slot -> how many orgs kept it."""
    per_slot = -(-len(orgs) // slots)  # ceil: no slot holds more orgs than a fresh stagger gives it
    usage = {}
    kept = {}
    for org in orgs:
        try:
            offset = parse_duration(str(previous.get(org["org_id"], ""))[:64]) - base_ns
        except DurationError:
            continue
        slot, remainder = divmod(offset, step_ns)
        if remainder == 0 and 0 <= slot < slots and usage.get(slot, 0) < per_slot:
            kept[org["org_id"]] = slot
            usage[slot] = usage.get(slot, 0) + 1
    return kept, usage


class _Slots(object):
    """The least used slot, lowest first, in time that grows with the orgs, not with the slots:
    while a slot no org uses is left, that is the lowest of those; only once every slot is used
    (so there are no more slots than orgs) a heap of all of them takes over."""

    def __init__(self, slots, usage):
        self.slots = slots
        self.usage = usage
        self.unused = 0  # every slot below it is used
        self.heap = None

    def take(self):
        if self.heap is None:
            while self.unused < self.slots and self.unused in self.usage:
                self.unused += 1
            if self.unused < self.slots:
                slot = self.unused
                self.usage[slot] = 1
                return slot
            self.heap = [(count, slot) for slot, count in self.usage.items()]
            heapq.heapify(self.heap)
        count, slot = heapq.heappop(self.heap)
        heapq.heappush(self.heap, (count + 1, slot))
        return slot


def stagger_delays(orgs, base="24h", step="10m", window="24h", previous=None):
    """Return copies of the orgs, each with an export_delay (Go duration string).

    Delays are slots base + step * k, k < window // step. Without previous, org i gets slot
    i mod (window // step): delays spread over [base, base + window) and wrap around, so no org
    waits a whole window longer than the first. previous maps org ids to the delays they had:
    an org keeps its delay while it is still a slot no earlier org kept (so that adding or
    removing an org restarts no other), and the other orgs take the least used slots, lowest
    first, in list order. The cost grows with the orgs, whatever the number of slots.
    """
    base_ns = _duration_option("base", base)
    step_ns = _duration_option("step", step)
    window_ns = _duration_option("window", window)
    if base_ns < MIN_EXPORT_DELAY:
        raise StaggerError('stagger_delays: base must be at least 1h (hauser\'s minimum ExportDelay), got "%s"'
                           % base)
    if base_ns > MAX_BASE:
        raise StaggerError('stagger_delays: base must be at most 168h (a week), got "%s"' % base)
    if step_ns < MIN_STEP:
        raise StaggerError('stagger_delays: step must be at least 1s, got "%s"' % step)
    if window_ns < step_ns:
        raise StaggerError('stagger_delays: window ("%s") must be at least step ("%s")' % (window, step))
    if window_ns > MAX_WINDOW:
        raise StaggerError('stagger_delays: window must be at most 168h (a week), got "%s"' % window)
    slots = window_ns // step_ns
    if isinstance(orgs, (str, bytes)) or not isinstance(orgs, Sequence):
        raise StaggerError("stagger_delays: expected a list of orgs, got %s" % type(orgs).__name__)
    for index, org in enumerate(orgs):
        if not isinstance(org, Mapping):
            raise StaggerError("stagger_delays: org %d is not a mapping (got %s)" % (index, type(org).__name__))
    kept, usage = _kept_slots(orgs, previous, base_ns, step_ns, slots) if previous else ({}, {})
    free = _Slots(slots, usage)
    staggered = []
    for org in orgs:
        slot = kept.get(org["org_id"])
        if slot is None:
            slot = free.take()
        staggered_org = dict(org)
        staggered_org["export_delay"] = format_duration(base_ns + step_ns * slot)
        staggered.append(staggered_org)
    return staggered
