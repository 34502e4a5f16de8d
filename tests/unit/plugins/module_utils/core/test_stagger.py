import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.durations import (
    HOUR,
    MINUTE,
    SECOND,
    format_duration,
    parse_duration,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.stagger import StaggerError, stagger_delays

KEY = "na1.Zx9Qw8Er7Ty6"


# --- export delays --------------------------------------------------------------------------------

def _delays(count, **options):
    return [org["export_delay"] for org in stagger_delays([{"org_id": "o-%d" % index} for index in range(count)], **options)]


def test_stagger_delays_defaults():
    delays = _delays(290)
    assert delays[:3] == ["24h", "24h10m", "24h20m"]
    assert delays[143:147] == ["47h50m", "24h", "24h10m", "24h20m"]
    assert delays[287:] == ["47h50m", "24h", "24h10m"]
    assert "48h" not in delays


@pytest.mark.parametrize("options, expected", [
    ({"step": "7m"}, ["24h", "24h7m", "24h14m"]),
    ({"base": "1h", "step": "1h", "window": "3h"}, ["1h", "2h", "3h", "1h"]),
    ({"base": "2h", "step": "25m", "window": "1h"}, ["2h", "2h25m", "2h", "2h25m"]),
    ({"step": "1h", "window": "1h"}, ["24h", "24h", "24h", "24h"]),
    ({"base": "1h30m", "step": "90s", "window": "3m"}, ["1h30m", "1h31m30s", "1h30m", "1h31m30s"]),
    ({"base": "24h", "step": "1s", "window": "2s"}, ["24h", "24h1s", "24h", "24h1s"]),
    ({"base": "168h", "step": "1s", "window": "168h"}, ["168h", "168h1s", "168h2s"]),
])
def test_stagger_delays_options(options, expected):
    assert _delays(len(expected), **options) == expected


def test_stagger_delays_copies():
    orgs = [{"org_id": "o-1", "api_key": KEY, "line": 3, "export_delay": "1h"}]
    result = stagger_delays(orgs)
    assert orgs == [{"org_id": "o-1", "api_key": KEY, "line": 3, "export_delay": "1h"}]
    assert result == [{"org_id": "o-1", "api_key": KEY, "line": 3, "export_delay": "24h"}]
    assert stagger_delays(()) == []


STAGGER_REJECTED = [
    ({"base": "59m59s"}, 'stagger_delays: base must be at least 1h (hauser\'s minimum ExportDelay), got "59m59s"'),
    ({"base": "0"}, 'stagger_delays: base must be at least 1h (hauser\'s minimum ExportDelay), got "0"'),
    ({"base": "-24h"}, 'stagger_delays: base must be at least 1h (hauser\'s minimum ExportDelay), got "-24h"'),
    ({"step": "0s"}, 'stagger_delays: step must be at least 1s, got "0s"'),
    ({"step": "-10m"}, 'stagger_delays: step must be at least 1s, got "-10m"'),
    ({"step": "1ns", "window": "2ns"}, 'stagger_delays: step must be at least 1s, got "1ns"'),
    ({"step": "999ms"}, 'stagger_delays: step must be at least 1s, got "999ms"'),
    ({"base": "168h1s"}, 'stagger_delays: base must be at most 168h (a week), got "168h1s"'),
    ({"window": "169h"}, 'stagger_delays: window must be at most 168h (a week), got "169h"'),
    ({"base": "1h", "step": "x" * 65}, "stagger_delays: step is too long for a duration"),
    ({"step": "2h", "window": "1h"}, 'stagger_delays: window ("1h") must be at least step ("2h")'),
    ({"window": "0"}, 'stagger_delays: window ("0") must be at least step ("10m")'),
    ({"base": "1440"}, 'stagger_delays: base is not a valid duration: time: missing unit in duration "1440"'),
    ({"step": "10 m"}, 'stagger_delays: step is not a valid duration: time: unknown unit " m" in duration "10 m"'),
    ({"window": "1d"}, 'stagger_delays: window is not a valid duration: time: unknown unit "d" in duration "1d"'),
    ({"step": 600}, 'stagger_delays: step must be a Go duration string such as "10m", got int'),
    ({"base": None}, 'stagger_delays: base must be a Go duration string such as "10m", got NoneType'),
    ({"window": b"24h"}, 'stagger_delays: window must be a Go duration string such as "10m", got bytes'),
    ({"base": "2562047h", "step": "1h", "window": "2h"}, 'stagger_delays: base must be at most 168h (a week), got "2562047h"'),
]


@pytest.mark.parametrize("options, message", STAGGER_REJECTED)
def test_stagger_delays_rejects(options, message):
    with pytest.raises(StaggerError) as caught:
        stagger_delays([{"org_id": "o-1"}], **options)
    assert str(caught.value) == message


@pytest.mark.parametrize("orgs, message", [
    ("o-1,k", "stagger_delays: expected a list of orgs, got str"),
    ({"org_id": "o-1"}, "stagger_delays: expected a list of orgs, got dict"),
    (None, "stagger_delays: expected a list of orgs, got NoneType"),
    ([{"org_id": "o-1"}, ["o-2"]], "stagger_delays: org 1 is not a mapping (got list)"),
])
def test_stagger_delays_rejects_orgs(orgs, message):
    with pytest.raises(StaggerError) as caught:
        stagger_delays(orgs)
    assert str(caught.value) == message


@given(
    base=st.integers(min_value=HOUR, max_value=168 * HOUR),
    step=st.one_of(st.integers(min_value=SECOND, max_value=48 * HOUR),
                   st.integers(min_value=1, max_value=48 * 60).map(lambda minutes: minutes * MINUTE)),
    window_factor=st.integers(min_value=1, max_value=500),
    window_extra=st.integers(min_value=0, max_value=10 ** 6),
    count=st.integers(min_value=0, max_value=300),
)
def test_stagger_delays_formula(base, step, window_factor, window_extra, count):
    window = min(step * window_factor + window_extra % step, 168 * HOUR)
    assume(window >= step)
    orgs = [{"org_id": "o-%d" % index} for index in range(count)]
    result = stagger_delays(orgs, base=format_duration(base), step=format_duration(step), window=format_duration(window))
    assert [org["org_id"] for org in result] == [org["org_id"] for org in orgs]
    for index, org in enumerate(result):
        delay = parse_duration(org["export_delay"])
        assert delay == base + step * (index % (window // step))
        assert base <= delay < base + window


# Sticky slots: with the delays orgs had before, a change to the list moves no other org's delay.
def _sticky_orgs(count):
    return [{"org_id": "o-%d" % i, "api_key": "KEY%08d" % i, "line": i + 1} for i in range(count)]


def _delay_map(orgs):
    return {org["org_id"]: org["export_delay"] for org in orgs}


def test_stagger_keeps_previous_delays_when_an_org_goes():
    before = _delay_map(stagger_delays(_sticky_orgs(6)))
    remaining = [org for org in _sticky_orgs(6) if org["org_id"] != "o-2"]
    after = _delay_map(stagger_delays(remaining, previous=before))
    assert after == {org_id: delay for org_id, delay in before.items() if org_id != "o-2"}


def test_stagger_gives_a_new_org_the_first_free_slot():
    before = _delay_map(stagger_delays(_sticky_orgs(6)))
    del before["o-2"]  # slot 24h20m is free again
    after = _delay_map(stagger_delays(_sticky_orgs(7), previous=before))
    assert after["o-2"] == "24h20m"
    assert after["o-6"] == "25h"
    assert {k: v for k, v in after.items() if k in before} == before


def test_stagger_ignores_previous_delays_that_are_no_slot_or_taken():
    previous = {"o-0": "24h5m", "o-1": "24h10m", "o-2": "24h10m", "o-3": "nonsense"}
    after = _delay_map(stagger_delays(_sticky_orgs(4), previous=previous))
    assert after["o-1"] == "24h10m"
    assert sorted(after.values()) == ["24h", "24h10m", "24h20m", "24h30m"]


@given(st.integers(min_value=0, max_value=400))
def test_stagger_without_previous_is_the_formula(count):
    delays = [org["export_delay"] for org in stagger_delays(_sticky_orgs(count), previous={})]
    assert delays == [format_duration(24 * HOUR + (i % 144) * 10 * MINUTE) for i in range(count)]


def test_a_week_of_one_second_slots_costs_what_the_orgs_cost():
    # 604,800 slots: the stagger must not touch each of them (it used to allocate and heap them all)
    previous = {"o-1": "24h5s", "o-3": "24h"}
    result = stagger_delays(_sticky_orgs(4), base="24h", step="1s", window="168h", previous=previous)
    assert _delay_map(result) == {"o-0": "24h1s", "o-1": "24h5s", "o-2": "24h2s", "o-3": "24h"}


@given(st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=120),
       st.dictionaries(st.sampled_from(["o-%d" % i for i in range(120)]), st.integers(min_value=0, max_value=70)))
def test_the_least_used_slot_lowest_first_as_a_heap_of_every_slot_would_give(slots, count, kept_slots):
    """The stagger's choice of slots against the plain rule: the least used slot, lowest first."""
    import heapq
    orgs = _sticky_orgs(count)
    previous = dict((org_id, format_duration(24 * HOUR + slot * MINUTE)) for org_id, slot in kept_slots.items())
    result = stagger_delays(orgs, base="24h", step="1m", window="%dm" % slots, previous=previous)
    # the rule, written out: keep what may be kept, then a heap of (use, slot) over every slot
    per_slot = -(-count // slots)
    usage = [0] * slots
    expected = {}
    for org in orgs:
        slot = kept_slots.get(org["org_id"])
        if slot is not None and slot < slots and usage[slot] < per_slot:
            expected[org["org_id"]] = slot
            usage[slot] += 1
    heap = [(use, slot) for slot, use in enumerate(usage)]
    heapq.heapify(heap)
    for org in orgs:
        if org["org_id"] not in expected:
            use, slot = heapq.heappop(heap)
            heapq.heappush(heap, (use + 1, slot))
            expected[org["org_id"]] = slot
    assert _delay_map(result) == dict((org_id, format_duration(24 * HOUR + slot * MINUTE))
                                      for org_id, slot in expected.items())
