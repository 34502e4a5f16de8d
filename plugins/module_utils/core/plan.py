# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a run: which host runs which org, with which ExportDelay and which files.

Made once per run on the controller (the multi_hauser_plan action), in two phases:

1. make_plan(): from each host's settings, the orgs (a key file, read once) and what each host
   runs now (its org programs and their ExportDelay, as multi_hauser_probe found them), every org
   is assigned to one host of its deployment, each host's orgs are staggered (an org keeps its
   delay while it stays on its host) and rendered. Returns the plan, which holds no key and can
   be printed, and each host's files, which hold the keys.
2. held_back() and moves(): once every host has stopped the orgs it gives up, which orgs a host
   must not start yet (a host of its deployment that failed before it stopped its orgs may still
   run them), and which orgs move between the hosts of a deployment.

A deployment is the hosts that share one orgs source, one list of shard hosts and one set of
pins; a play may hold several (each VM its own deployment, say).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.shard import assign_orgs
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.stagger import stagger_delays


def orgs_source(settings):
    """The name that messages give the orgs of a host: its key file as given, or the variable."""
    return settings["keyfile"] if settings.get("keyfile") else "multi_hauser_orgs"


def _deployment_key(settings):
    return json.dumps([orgs_source(settings), list(settings["shard_hosts"]), settings.get("pins") or {}],
                      sort_keys=True)


def make_plan(host_settings, weights, found, read_orgs, render=None):
    """Phase 1 of the plan.

    host_settings: play host -> its settings (as multi_hauser_settings checked them).
    weights: shard host -> its weight, for every shard host of every deployment.
    found: play host -> {org_id: ExportDelay or None} of the org programs it runs now, or None
        when hosts were not asked (a fresh stagger, as for a new deployment).
    read_orgs(settings): the validated orgs (org_id, api_key, line) of a host's orgs source.
    render(host, orgs): the files of a host's staggered orgs; None renders nothing.

    Returns (plan, files): plan["hosts"][host] has shard_hosts, orgs (org_id, line,
    export_delay, in key-file order), found, stop (what it runs and gives up), lost_hosts and
    held_back; plan["assignment"] maps every org to its host, those of hosts not in the play
    too; files[host] is the list of rendered org records.
    """
    found = found or {}
    assignments = {}  # deployment -> every org, with its host
    by_host = {}  # deployment -> host -> its orgs, in key-file order
    hosts = {}
    files = {}
    for host in sorted(host_settings):
        settings = host_settings[host]
        key = _deployment_key(settings)
        if key not in assignments:
            shard_weights = dict((shard_host, weights[shard_host]) for shard_host in settings["shard_hosts"])
            assignments[key] = assign_orgs(read_orgs(settings), shard_weights, settings.get("pins"))
            by_host[key] = {}
            for org in assignments[key]:
                by_host[key].setdefault(org["host"], []).append(org)
        own = by_host[key].get(host, [])
        here = found.get(host) or {}
        staggered = stagger_delays(own, base=settings["export_delay_base"], step=settings["export_delay_step"],
                                   window=settings["export_delay_window"],
                                   previous=dict((org_id, delay) for org_id, delay in here.items() if delay))
        planned = set(org["org_id"] for org in staggered)
        hosts[host] = {
            "shard_hosts": list(settings["shard_hosts"]),
            "orgs": [{"org_id": org["org_id"], "line": org["line"], "export_delay": org["export_delay"]}
                     for org in staggered],
            "found": sorted(here),
            "stop": sorted(org_id for org_id in here if org_id not in planned),
        }
        if render is not None:
            files[host] = render(host, staggered)
    play_hosts = sorted(host_settings)
    assignment = {}
    for assigned in assignments.values():
        for org in assigned:
            assignment.setdefault(org["org_id"], org["host"])
    for host in hosts:
        hosts[host]["lost_hosts"] = _lost(hosts[host], play_hosts)
        hosts[host]["held_back"] = held_back({"hosts": hosts}, host, play_hosts)
    return {"hosts": hosts, "assignment": assignment}, files


def _lost(host_plan, healthy_hosts):
    return [host for host in host_plan["shard_hosts"] if host not in healthy_hosts]


def held_back(plan, host, healthy_hosts):
    """Phase 2: the orgs host must not start. When a shard host failed or could not be reached
    before it stopped the orgs it gives up, any org of host not seen on a healthy host before
    this run may still run there."""
    host_plan = plan["hosts"][host]
    if not _lost(host_plan, healthy_hosts):
        return []
    seen = set()
    for other in _healthy_shard_hosts(host_plan, healthy_hosts):
        seen.update(plan["hosts"].get(other, {}).get("found", ()))
    return [org["org_id"] for org in host_plan["orgs"] if org["org_id"] not in seen]


def _healthy_shard_hosts(host_plan, healthy_hosts):
    """The healthy hosts of this host's deployment: another deployment's hosts may export the same
    orgs, and what they run says nothing of this one's."""
    return [other for other in host_plan["shard_hosts"] if other in healthy_hosts]


def moves(plan, healthy_hosts):
    """Phase 2: "org: from -> to" for every org that a healthy host starts and did not run
    before, from the hosts that ran it ("(new)" if none did)."""
    lines = []
    for host in healthy_hosts:
        host_plan = plan["hosts"].get(host)
        if host_plan is None:
            continue
        held = set(held_back(plan, host, healthy_hosts))
        for org in host_plan["orgs"]:
            org_id = org["org_id"]
            if org_id in host_plan["found"] or org_id in held:
                continue
            sources = [other for other in _healthy_shard_hosts(host_plan, healthy_hosts)
                       if other != host and org_id in plan["hosts"].get(other, {}).get("found", ())]
            lines.append("%s: %s -> %s" % (org_id, ", ".join(sources) or "(new)", host))
    return lines


def table(plan):
    """One line per org, in key-file order: its id, its host and its ExportDelay, under a header
    saying that the delays are those of a fresh stagger when no host was asked what it runs."""
    rows = []
    fresh = True
    for host, host_plan in plan["hosts"].items():
        fresh = fresh and not host_plan["found"]
        for org in host_plan["orgs"]:
            rows.append((org["line"], org["org_id"], host, org["export_delay"]))
    rows.sort()
    header = ("ORG", "HOST", "EXPORTDELAY")
    widths = [max(len(row[column]) for row in [(None,) + header] + rows) for column in (1, 2)]
    lines = ["%s  %s  %s" % (header[0].ljust(widths[0]), header[1].ljust(widths[1]), header[2])]
    lines += ["%s  %s  %s" % (org_id.ljust(widths[0]), host.ljust(widths[1]), delay) for _line, org_id, host, delay in rows]
    if fresh:
        lines.append("(ExportDelay as a fresh deploy staggers it; a deployed host keeps each org's delay while "
                     "the org stays there)")
    return lines
