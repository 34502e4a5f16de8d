# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything the controller and the container image both do, with no Ansible import.

Imported the same way everywhere, ``from ansible_collections.hauser.multi_hauser.plugins.module_utils.core
import ...``: by the filters and action plugins on the controller, by the modules on the hosts
(Ansible ships module_utils with each module), and by the image's entrypoint, which carries this
tree whole. Python's standard library only, except ``render``, which needs Jinja2 and is used
where templates are rendered (the controller and the image), never on a VM.

    durations   Go's time.ParseDuration and compact duration strings
    orgs        key files and org lists, validated
    stagger     each org's ExportDelay slot
    shard       which host runs which org (weighted rendezvous hashing)
    settings    every setting: its kind, its bounds, what each provider requires
    secrets     what is secret, and how it is masked
    layout      paths and names on a host
    config      hauser's config keys and checks, and its TOML
    render      each org's config.toml and supervisord program, from Jinja templates
    plan        key file and inventory -> which host runs which org, with which files
    files       an org's files written to disk, and the difference to what was there
    supervisor  supervisord's XML-RPC interface
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
