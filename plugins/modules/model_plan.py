#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: model_plan
short_description: Say which model files a host lacks and whether its disk can take them
version_added: 0.1.0
description:
  - Looks at the destination of each model file of a tier and reports whether it is already there (by size, or by
    the marker of an unpacked Vosk model), partly downloaded, or missing.
  - Adds up the bytes still to download and the peak disk space the downloads need, and reads the free space of the
    filesystem that will hold them. The provisioning role refuses to start a download when the space is short.
  - Reads only; it never changes the host, so it runs the same in check mode. Digests are verified later by
    M(voiceagent.models.model_file).
  - Fails before anything is written when a symbolic link on the way to O(path) or to a file's C(dest) (below
    O(install_dir), or below O(path) when O(path) is elsewhere) points outside that directory, because the
    downloads would then land somewhere else. O(allow_outside_links) accepts such links on purpose.
author:
  - voiceagent.models maintainers (@voiceagent)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - voiceagent.models._attributes
options:
  files:
    description:
      - The tier's files, as in the C(files) list of the P(voiceagent.models.provision_plan#filter) filter.
      - Each needs C(dest), C(format) and C(size) (bytes; may be null when unknown).
    type: list
    elements: dict
    required: true
  path:
    description: The directory the files go under. Its nearest existing ancestor gives the free space.
    type: path
    required: true
  env_file:
    description: The agent's C(.env). With O(env), the module says whether its owned keys already hold those values.
    type: path
  env:
    description: The owned C(.env) keys and their values, as in the C(env) of the provision plan.
    type: dict
  install_dir:
    description:
      - The agent's install directory. When O(path) lies below it, no symbolic link between the two, or further
        down to a file, may point outside it.
      - When not given, or when O(path) lies elsewhere, the links below O(path) must stay inside O(path).
    type: path
  allow_outside_links:
    description:
      - Accept symbolic links that point outside the install directory (for example a models directory on a
        bigger disk, linked on purpose).
    type: bool
    default: false
  directories:
    description:
      - Directories that must exist with O(directory_uid), O(directory_gid) and O(directory_mode); RV(directories_current)
        says whether they already do, so a rerun can skip creating them.
    type: list
    elements: path
    default: []
  directory_uid:
    description: Numeric owner the O(directories) must have; not checked when left out.
    type: int
  directory_gid:
    description: Numeric group the O(directories) must have; not checked when left out.
    type: int
  directory_mode:
    description: Octal mode the O(directories) must have, such as C(2775) (setgid included); not checked when left out.
    type: str
"""

EXAMPLES = r"""
- name: Check what the tier needs on this host
  voiceagent.models.model_plan:
    files: "{{ voiceagent_plan.files }}"
    path: /opt/asterisk-ai-voice-agent/models
  register: voiceagent_disk
"""

RETURN = r"""
files:
  description:
    - Each input file with C(status) (V(present), V(partial) or V(missing)), C(bytes_to_download), and C(verified).
    - C(verified) is true when the file's sha256 is known and matches what the last verification recorded
      (the C(.voiceagent-digests.json) sidecar while size, mtime, ctime and inode are unchanged, or the Vosk
      marker). Nothing is hashed here.
  returned: always
  type: list
  elements: dict
all_verified:
  description: Whether every file is present and verified, so nothing needs fetching or checking again.
  returned: always
  type: bool
env_current:
  description: Whether the C(.env) already holds every owned key with its value; false when O(env) is not given.
  returned: always
  type: bool
bytes_to_download:
  description: Bytes still to fetch for the whole tier.
  returned: always
  type: int
bytes_needed:
  description: Peak free space the downloads need. A Vosk archive counts three times, for the zip plus its unpacked folder.
  returned: always
  type: int
bytes_free:
  description: Free bytes for an unprivileged user on the filesystem that will hold the files.
  returned: always
  type: int
free_path:
  description: The existing directory whose filesystem was measured.
  returned: always
  type: str
enough_space:
  description: Whether O(path) has room for RV(bytes_needed).
  returned: always
  type: bool
directories_current:
  description: Whether every one of O(directories) exists as a directory with the owner, group and mode asked for.
  returned: always
  type: bool
"""

import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import model_formats as mf
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.dotenv_edit import set_keys


def file_status(spec):
    """(status, bytes still to download, verified) for one file."""
    dest, size, fmt, sha256 = spec["dest"], spec.get("size"), spec.get("format"), spec.get("sha256")
    if fmt == "vosk-zip":
        marker = (mf.read_marker(dest) if os.path.isdir(dest) else None) or {}
        present = bool(marker) and (size is None or marker.get("size") == size)
        verified = (present and bool(sha256) and marker.get("sha256") == sha256
                    and mf.missing_vosk_folder(dest) is None)
    else:
        present = os.path.isfile(dest) and (size is None or os.path.getsize(dest) == size)
        verified = present and bool(sha256) and digest_cache.lookup(dest) == sha256
    if present:
        return "present", 0, verified
    part = mf.part_path(dest, fmt)
    have = os.path.getsize(part) if os.path.isfile(part) else 0
    remaining = max(0, (size or 0) - have)
    return ("partial" if have else "missing"), remaining, False


def env_current(path, values):
    """True when the .env already holds every owned value. Never returns the file's content."""
    if not path or not values or os.path.islink(path):
        return False
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "surrogateescape")
        return not set_keys(text, values)[1]
    except (OSError, ValueError):
        return False


def inside(path, top):
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def outside_link(path, base):
    """The first symbolic link from ``base`` down to ``path`` that leads outside ``base``: (link, target) or None."""
    base, path = os.path.abspath(base), os.path.abspath(path)
    if not inside(path, base):
        return None
    real_base = os.path.realpath(base)
    current = base
    for part in os.path.relpath(path, base).split(os.sep):
        if part in ("", os.curdir):
            continue
        current = os.path.join(current, part)
        if os.path.islink(current):
            target = os.path.realpath(current)
            if not inside(target, real_base):
                return current, target
    return None


def check_links(models_dir, install_dir, dests):
    """A sentence refusing the first link that leads outside, or None."""
    base = install_dir if install_dir and inside(os.path.abspath(models_dir), os.path.abspath(install_dir)) \
        else models_dir
    for path in [models_dir] + dests:
        found = outside_link(path, base)
        if found:
            return ("%s is a symbolic link to %s, outside %s. Refusing to put model files there; point "
                    "voiceagent_models_dir at the real directory, or set voiceagent_allow_outside_links "
                    "(allow_outside_links) to true if the link is intended." % (found[0], found[1], base))
    return None


def nearest_existing(path):
    path = os.path.abspath(path)
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def directory_current(path, uid, gid, mode):
    """Whether ``path`` is a directory (not a link) with the given uid, gid and permission bits."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode)
            and (uid is None or info.st_uid == uid)
            and (gid is None or info.st_gid == gid)
            and (mode is None or stat.S_IMODE(info.st_mode) == int(mode, 8)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True),
            path=dict(type="path", required=True),
            env_file=dict(type="path"),
            env=dict(type="dict"),
            install_dir=dict(type="path"),
            allow_outside_links=dict(type="bool", default=False),
            directories=dict(type="list", elements="path", default=[]),
            directory_uid=dict(type="int"),
            directory_gid=dict(type="int"),
            directory_mode=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    mode = module.params["directory_mode"]
    if mode is not None and not re.match(r"^0?[0-7]{3,4}$", mode):
        module.fail_json(msg="directory_mode must be an octal mode such as 2775; got %r." % (mode,))
    rows, to_download, needed = [], 0, 0
    for spec in module.params["files"]:
        if not isinstance(spec.get("dest"), str) or not spec["dest"].startswith("/"):
            module.fail_json(msg="Each file needs an absolute 'dest'; got %r." % (spec.get("dest"),))
        status, remaining, verified = file_status(spec)
        to_download += remaining
        needed += remaining * (mf.ZIP_PEAK_FACTOR if spec.get("format") == "vosk-zip" else 1)
        row = dict(spec)
        row.update(status=status, bytes_to_download=remaining, verified=verified)
        rows.append(row)
    if not module.params["allow_outside_links"]:
        problem = check_links(module.params["path"], module.params["install_dir"], [row["dest"] for row in rows])
        if problem:
            module.fail_json(msg=problem)
    free_path = nearest_existing(module.params["path"])
    stats = os.statvfs(free_path)
    free = stats.f_bavail * stats.f_frsize
    module.exit_json(changed=False, files=rows, bytes_to_download=to_download, bytes_needed=needed,
                     bytes_free=free, free_path=free_path, enough_space=needed <= free,
                     all_verified=all(row["verified"] for row in rows),
                     env_current=env_current(module.params["env_file"], module.params["env"]),
                     directories_current=all(
                         directory_current(path, module.params["directory_uid"], module.params["directory_gid"], mode)
                         for path in module.params["directories"]))


if __name__ == "__main__":
    main()
