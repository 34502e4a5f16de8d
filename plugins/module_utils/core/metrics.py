# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every org's export state (core/exports.py) as Prometheus metrics, in the text exposition
format that node_exporter's textfile collector and a /metrics endpoint serve.

One metric per meaning, the org as a label, Unix times as *_timestamp_seconds: the alert rules
compute ages (time() - ...) themselves, so that a file written a while ago still says the truth.
A time that is not known (no export finished yet, not retrying) has no sample at all rather
than a made-up 0. What the deployment planned (ExportDelay, ExportDuration) comes from the
caller, never from a config file: a config holds the API key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.exports import STATES, OrgState


# Each org's metrics, in output order: name, type, where the value is (an OrgState field, or a
# key of the org's plan), help. A value that is None (or not a number) has no sample.
ORG_METRICS = (
    ("multi_hauser_org_up", "gauge", ("state", "up"),
     "1 while supervisord reports the org's hauser RUNNING, else 0."),
    ("multi_hauser_org_restarts_total", "counter", ("state", "restarts"),
     "Times supervisord restarted the org's hauser after it exited on its own."),
    ("multi_hauser_org_last_export_end_timestamp_seconds", "gauge", ("state", "last_export_end"),
     "End of the last window hauser finished exporting, as a Unix time."),
    ("multi_hauser_org_next_export_timestamp_seconds", "gauge", ("state", "next_export"),
     "When hauser starts its next export (after its wait or its retry pause), as a Unix time."),
    ("multi_hauser_org_consecutive_failures", "gauge", ("state", "consecutive_failures"),
     "Export cycles that failed in a row since the last one that succeeded."),
    ("multi_hauser_org_retrying_since_timestamp_seconds", "gauge", ("state", "retrying_since"),
     "First failure of the current run of failures, as a Unix time."),
    ("multi_hauser_org_first_seen_timestamp_seconds", "gauge", ("state", "first_seen"),
     "When the monitor first saw the org, as a Unix time."),
    ("multi_hauser_org_export_delay_seconds", "gauge", ("plan", "export_delay_seconds"),
     "The org's ExportDelay as deployed: how far behind now a window must end to be exported."),
    ("multi_hauser_org_export_duration_seconds", "gauge", ("plan", "export_duration_seconds"),
     "The org's ExportDuration as deployed: the length of one export window."),
)
STATE_METRIC = ("multi_hauser_org_state", "gauge",
                "1 for the state the org's hauser is in (starting, waiting, exporting, retrying, down), 0 for the others.")
LAST_UPDATE_METRIC = ("multi_hauser_monitor_last_update_timestamp_seconds", "gauge",
                      "When the monitor last wrote these metrics, as a Unix time.")


def escape_label_value(value):
    """A label value as the text format quotes it: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value):
    """A sample's value: integers as they are, floats exactly (repr), NaN and infinities as Go
    writes them."""
    if value.__class__ is float:
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return repr(value)
    return "%d" % value


def _org_value(source, state, plan):
    where, key = source
    value = getattr(state, key) if where == "state" else plan.get(key)
    if value.__class__ is bool:
        return int(value)
    return value if value.__class__ in (int, float) else None


def _family(lines, name, kind, help_text, samples):
    lines.append("# HELP %s %s" % (name, help_text))
    lines.append("# TYPE %s %s" % (name, kind))
    for labels, value in samples:
        label_text = ",".join('%s="%s"' % (label, escape_label_value(text)) for label, text in labels)
        lines.append("%s{%s} %s" % (name, label_text, format_value(value)) if label_text
                     else "%s %s" % (name, format_value(value)))


def render(states, orgs, now):
    """The text exposition of every org of orgs (org id -> {"export_delay_seconds",
    "export_duration_seconds"}: what the deployment planned), sorted by org, from its state in
    states (a States); an org without one yet is shown as a fresh OrgState first seen now.
    Orgs of states that are not in orgs (no longer deployed) are left out. now is also the
    monitor's last update."""
    entries = [(org_id, states.orgs.get(org_id) or OrgState(now), orgs[org_id]) for org_id in sorted(orgs)]
    lines = []
    for name, kind, source, help_text in ORG_METRICS:
        samples = [((("org", org_id),), _org_value(source, state, plan)) for org_id, state, plan in entries]
        _family(lines, name, kind, help_text, [sample for sample in samples if sample[1] is not None])
    name, kind, help_text = STATE_METRIC
    _family(lines, name, kind, help_text,
            [((("org", org_id), ("state", each)), 1 if state.state == each else 0)
             for org_id, state, _plan in entries for each in STATES])
    name, kind, help_text = LAST_UPDATE_METRIC
    _family(lines, name, kind, help_text, [((), float(now))])
    return "\n".join(lines) + "\n"
