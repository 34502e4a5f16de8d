#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: multi_hauser_release
short_description: Fetch a hauser release once into the controller's cache, verified, and unpack hauser
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Downloads C(hauser_<version>_checksums.txt) and C(hauser_<version>_linux_x86_64.tar.gz) from
    O(download_url) into O(cache_dir)C(/<version>/), once, checks the archive against the
    checksums file (or O(archive_sha256)), and unpacks C(hauser) (only that member) into a
    directory named after the archive's SHA-256.
  - With O(archive), nothing is downloaded. That archive is checked (against O(archive_sha256)
    when given) and unpacked.
  - Runs on the controller only, in check mode too (it fills a cache).
options:
  version:
    description: The hauser version.
    type: str
    required: true
  download_url:
    description: Where the release's assets are, without the file name.
    type: str
  archive:
    description: A release archive already on the controller.
    type: path
  archive_sha256:
    description: The archive's SHA-256, checked instead of the release's checksums file.
    type: str
  cache_dir:
    description: The download cache.
    type: path
    required: true
  timeout:
    description: Seconds a download may wait for the server.
    type: int
    default: 60
attributes:
  action:
    description: Runs as an action plugin, on the controller.
    support: full
  check_mode:
    description: Runs in check mode too; it changes only the controller's cache.
    support: full
  diff_mode:
    description: Changes nothing on a host, so there is nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Fetch hauser 1.5.1
  hauser.multi_hauser.multi_hauser_release:
    version: 1.5.1
    download_url: https://github.com/fullstorydev/hauser/releases/download/v1.5.1
    cache_dir: ~/.cache/multi_hauser
  run_once: true
  register: __multi_hauser_release
"""

RETURN = r"""
binary:
  description: The unpacked hauser on the controller.
  type: str
  returned: success
sha256:
  description: Its SHA-256.
  type: str
  returned: success
downloaded:
  description: The files downloaded by this run.
  type: list
  elements: str
  returned: success
"""
