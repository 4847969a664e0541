#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: model_file
short_description: Put one model file, or one unpacked Vosk model, in place safely
version_added: 0.1.0
description:
  - Downloads one model file (GGUF, Piper C(.onnx) or C(.onnx.json)) or one Vosk model zip, verifies it
    and only then puts it at O(dest). A Vosk zip is unpacked into the model directory O(dest).
  - "The check comes first: when O(dest) already has the expected size and SHA-256, the module reports
    C(changed: false) without any network request. File digests are cached in C(.voiceagent-digests.json)
    beside the file (keyed on size, modification and change time, and inode), so a rerun does not hash
    gigabytes again. A Vosk
    directory carries a marker C(.voiceagent-source.json) with the digest of the zip it came from."
  - The download goes to a hidden part file beside the destination, C(<dir>/.<name>.part), or
    C(<parent>/.<dirname>.zip.part) for O(format=vosk-zip). An interrupted download is resumed from there
    on the next run with an HTTP Range request. A server that ignores Range makes it start over.
  - A fresh download is hashed while it is written, and every 16 MiB written is handed to the disk as it goes,
    so the file is not read a second time and the final fsync is short; a resumed one is hashed from the file.
  - When the transfer is complete, the part file is checked against O(size), O(md5) and O(sha256), then
    against its format (see O(format)). Only then does it replace O(dest) with an atomic rename, with
    O(owner), O(group) and O(mode) applied before. A failed check removes the part file and fails, naming
    the expected and the actual value; O(dest) is never touched before the new file is verified.
  - A Vosk zip is inspected without extracting it first (no absolute paths, no C(..), no links, devices or
    setuid bits, at most 20 times its own size unpacked, one model folder with C(am/) and C(conf/), possibly
    nested one level deeper). It is then unpacked into a new directory beside O(dest) that replaces O(dest) as
    a whole, and the zip part file is removed.
  - Before a download the module checks that the filesystem has room for what is still missing. When the disk
    fills up during the transfer all the same (a size that was not pinned, another writer), the part file is
    removed, so the disk has its space back, and the task fails saying whether a previous O(dest) is kept.
  - With O(host_lock), the whole check, download, verification and rename of this one file runs under an
    exclusive lock on the host (C(fcntl.flock)), so two runs at once (two controllers, or a cron job and a person)
    never write the same files in turn. A second run waits up to O(lock_timeout) seconds and then fails, naming
    the lock file and the run that holds it. The kernel drops the lock when its holder dies, even by C(kill -9).
  - Under the lock, leftovers of a run that was killed are cleaned up first. A Vosk model directory that was
    moved aside (C(.<dirname>.old-*)) while the destination is missing is moved back, and the other aside and
    temporary unpack folders (C(.<dirname>.tmp-*)) are removed. A part file is resumed.
author:
  - voiceagent.models maintainers (@voiceagent)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written or downloaded, and no network request is made.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  url:
    description:
      - Where to download the file from. C(http://), C(https://) and C(file://) (a mirror on a local or mounted
        path) URLs work. Proxy environment variables are honoured.
      - Credentials in the URL and the query string are left out of every message.
      - One of O(url) and O(src) is required. When both are given, O(src) is used and O(url) is only
        recorded in the Vosk marker.
    type: str
  src:
    description:
      - A file already on the managed host, for example one copied there by an action plugin or another task.
        It is verified and put in place instead of downloading O(url).
      - When O(src) is on the same filesystem as O(dest), it is renamed to the part file beside O(dest), so it
        is consumed (also when a check fails, since the part file is then removed). On another filesystem it is
        copied there and left where it is. Nothing happens to it when O(dest) is already present.
    type: path
  present_only:
    description:
      - Only check whether O(dest) is present and right; never download, copy or unpack anything.
      - When it is not, the result has RV(state=absent), C(changed=false), and RV(would_download_bytes).
        Owner, group and mode of a present O(dest) are still applied.
      - Meant for an action plugin that decides where the file comes from.
    type: bool
    default: false
  dest:
    description:
      - The final file, or for O(format=vosk-zip) the model directory,
        for example C(/opt/voiceagent/models/stt/vosk-model-small-en-us-0.15).
      - Its directory must exist, except in check mode.
    type: path
    required: true
  format:
    description:
      - What the file must be. The check reads headers only.
      - V(gguf) parses the whole GGUF header (version 1 to 3, every metadata entry and tensor info) and
        catches a truncated file or an HTML error page saved as a model.
      - V(piper-onnx) expects an ONNX protobuf (C(ir_version) first, a graph, nothing cut off).
      - V(piper-config) expects a JSON object with C(audio.sample_rate) or C(phoneme_id_map).
      - V(vosk-zip) is a Vosk model zip, unpacked into O(dest).
    type: str
    required: true
    choices: [gguf, vosk-zip, piper-onnx, piper-config]
  sha256:
    description:
      - Expected SHA-256 of the downloaded file (the zip for O(format=vosk-zip)), 64 hex digits, optionally
        prefixed with C(sha256:).
      - When not given, an existing O(dest) counts as present when O(size) (and O(md5), if given) match, and the
        digest the module computes is returned in RV(sha256) so that it can be pinned.
    type: str
  md5:
    description:
      - Expected MD5 of the downloaded file, 32 hex digits. Checked in addition to O(sha256) when given.
        Useful where upstream publishes only MD5 (Piper voices).
    type: str
  size:
    description:
      - Expected size of the downloaded file in bytes (the zip for O(format=vosk-zip)).
      - Also lets the module refuse a server that announces another size before anything is transferred.
    type: int
  owner:
    description:
      - Name or numeric id of the user that owns the file (every file and directory for O(format=vosk-zip)).
    type: str
  group:
    description:
      - Name or numeric id of the group of the file (every file and directory for O(format=vosk-zip)).
    type: str
  mode:
    description:
      - Permissions of the file, as an octal string such as V('0644') or a number (YAML C(0644) unquoted is the
        same). Symbolic modes are not supported.
      - For O(format=vosk-zip) every file gets this mode; directories always get C(0755).
    type: raw
    default: '0644'
  max_seconds:
    description:
      - Stop the transfer after this many seconds and return RV(state=partial). The next run continues where this
        one stopped. Use it to report progress on slow links, for example in a loop with C(until).
      - V(0) transfers until done.
    type: float
    default: 0
  timeout:
    description:
      - Seconds to wait for the server to answer, and for each piece of data.
    type: int
    default: 30
  validate_certs:
    description:
      - Whether to check the server's TLS certificate. Leave it on outside tests.
    type: bool
    default: true
  host_lock:
    description:
      - A lock file on the host, for example C(/opt/asterisk-ai-voice-agent/.voiceagent.lock), that every writing
        module of this collection takes for the duration of its write. Its directory must exist. It is created
        when missing and never followed when it is a symbolic link.
      - Not taken in check mode, so check mode neither waits nor creates anything.
      - When not given, no lock is taken.
    type: path
  lock_timeout:
    description:
      - Seconds to wait for O(host_lock) when another run holds it, then fail. V(0) fails at once.
    type: float
    default: 600
notes:
  - An interrupted download leaves only the hidden part file; O(dest) never holds a partial file. A part file
    found beside a O(dest) that is already right is removed.
  - For a present Vosk directory only the owner and group of the directory itself are compared; when they differ,
    they are fixed throughout. File modes inside it are set when it is unpacked.
  - A broken connection fails the task and keeps what arrived; run the task again (or use C(retries)/C(until))
    to resume.
  - The host lock is held per module call. With O(max_seconds), as the action plugin uses it to print progress,
    another run may take its turn between two slices of the same download; it then continues the same part file.
seealso:
  - module: ansible.builtin.get_url
    description: General downloads; it verifies checksums but cannot resume.
"""

EXAMPLES = r"""
- name: Put the LLM in place (4 GB; resumes after an interruption)
  voiceagent.models.model_file:
    url: https://huggingface.co/TheBloke/Llama-2-7B-Chat-GGUF/resolve/main/llama-2-7b-chat.Q4_K_M.gguf
    dest: /opt/voiceagent/models/llm/llama-2-7b-chat.Q4_K_M.gguf
    format: gguf
    size: 4081004224
    sha256: 08a5566d61d7cb6b420c3e4387a39e0078e1f2fe5f055f3a03887385304d4bfa

- name: Unpack the Vosk model into its directory
  voiceagent.models.model_file:
    url: https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip
    dest: /opt/voiceagent/models/stt/vosk-model-small-en-us-0.15
    format: vosk-zip
    size: 41205931
    sha256: 30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498

- name: A Piper voice whose upstream publishes only size and MD5; keep the SHA-256 it computes
  voiceagent.models.model_file:
    url: https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/en/en_US/lessac/medium/en_US-lessac-medium.onnx
    dest: /opt/voiceagent/models/tts/en_US-lessac-medium.onnx
    format: piper-onnx
    size: 63201294
    md5: 2fc642b535197b6305c7c8f92dc8b24f
  register: voice

- name: Download in slices of 5 minutes, showing progress, until the file is complete
  voiceagent.models.model_file:
    url: http://mirror.example.internal/models/llama-2-13b-chat.Q4_K_M.gguf
    dest: /opt/voiceagent/models/llm/llama-2-13b-chat.Q4_K_M.gguf
    format: gguf
    size: 7865956224
    max_seconds: 300
  register: llm
  until: llm.state != 'partial'
  retries: 100
  delay: 0

- name: Create the model directories of a plan (the filter voiceagent.models.provision_plan)
  ansible.builtin.file:
    path: "{{ item }}"
    state: directory
    mode: "0755"
  loop: "{{ ['/opt/asterisk-ai-voice-agent/models'] + voiceagent_plan.directories }}"

- name: Put every file of the plan in place, as the provision role does
  voiceagent.models.model_file:
    url: "{{ item.url }}"
    dest: "{{ item.dest }}"
    format: "{{ item.format }}"
    sha256: "{{ item.sha256 }}"
    md5: "{{ item.md5 }}"
    size: "{{ item.size if item.size_exact else omit }}"
  loop: "{{ voiceagent_plan.files }}"
  loop_control:
    label: "{{ item.role }}: {{ item.name }}"
  register: voiceagent_files
"""

RETURN = r"""
dest:
  description: The destination file or Vosk model directory.
  returned: always
  type: str
  sample: /opt/voiceagent/models/llm/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf
state:
  description:
    - V(present) when O(dest) already was right (nothing was downloaded), V(downloaded) when it was put in
      place by this run, V(partial) when O(max_seconds) ran out first (run again to continue).
    - V(absent) in check mode or with O(present_only) when O(dest) is missing or wrong and would be downloaded.
  returned: always
  type: str
  sample: downloaded
sha256:
  description:
    - SHA-256 of the verified file (for O(format=vosk-zip), of the zip), computed when O(sha256) was not given.
    - V(null) while it is not known yet (partial download, check mode).
  returned: always
  type: str
  sample: 9fecc3b3cd76bba89d504f29b616eedf7da85b96540e490ca5824d3f7d2776a0
size:
  description: Size in bytes of the verified file (of the zip for O(format=vosk-zip)); V(null) while unknown.
  returned: always
  type: int
  sample: 668788096
bytes_downloaded:
  description: Bytes transferred by this run.
  returned: always
  type: int
  sample: 1048576
seconds:
  description:
    - Wall-clock seconds this call spent bringing the file in place, from the first request to the verified
      file under O(dest) (the download, hashing, format check, fsync and rename; for a Vosk zip also the
      unpacking), or until the slice of O(max_seconds) ended. V(0) when nothing was fetched. Through the
      action's progress slices, the sum over the slices. With RV(bytes_downloaded) it gives the host's download rate
      without Ansible's own per-task cost.
  returned: always
  type: float
  sample: 12.5
bytes_done:
  description: Bytes of the file that are on the host now (in the part file while the download is not complete).
  returned: always
  type: int
  sample: 668788096
bytes_total:
  description: Size of the whole download as far as known (from O(size) or the server); V(null) when unknown.
  returned: always
  type: int
  sample: 668788096
resumed_from:
  description:
    - Bytes already in the part file when this run started. If the server ignored the Range request, the
      download started over anyway; RV(bytes_downloaded) then shows the whole file.
  returned: always
  type: int
  sample: 0
would_download_bytes:
  description:
    - In check mode or with O(present_only), how many bytes a real run would still transfer (V(null) when
      O(size) is not given). V(0) when nothing would be downloaded, and always V(0) after a real run.
  returned: always
  type: int
  sample: 668788096
cleaned_up:
  description:
    - Leftovers of a killed run that were removed, or a Vosk folder moved aside that was put back (its path is
      O(dest)), before anything else happened.
    - This includes a C(.<name>.controller-part) file pushed from the controller for a run that never took it,
      once nothing has written to it for an hour (a younger one may be another run's push in progress).
  returned: always
  type: list
  elements: str
  sample: [/opt/voiceagent/models/stt/.vosk-model-small-en-us-0.15.tmp-3k2j1x]
msg:
  description: One sentence on what happened.
  returned: always
  type: str
  sample: Downloaded https://example.org/x.gguf (668788096 bytes), verified it and put it at /opt/x.gguf.
"""

import errno
import glob
import grp
import os
import pwd
import re
import shutil
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import host_lock
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.atomic_write import fsync_dir, parse_mode
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import http_download as dl
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import model_formats as mf

FILE_CHECKS = {
    "gguf": mf.check_gguf,
    "piper-onnx": mf.check_piper_onnx,
    "piper-config": mf.check_piper_config,
}
ZIP_MAX_RATIO = 20
# A file pushed from the controller that nobody wrote to for this long belongs to a run that died.
STALE_PUSH_SECONDS = 3600
_HEX = {"sha256": re.compile(r"[0-9a-f]{64}\Z"), "md5": re.compile(r"[0-9a-f]{32}\Z")}


class ModelFileModule(AnsibleModule):
    def add_path_info(self, kwargs):
        # The generic file stats that exit_json adds for a 'dest' key would overwrite our
        # 'state' (present/downloaded/partial) and 'size' (of the download, not of a directory).
        return kwargs


class Failure(Exception):
    """Ends the module with fail_json(msg, **extra)."""

    def __init__(self, msg, **extra):
        super(Failure, self).__init__(msg)
        self.extra = extra


# ---------------------------------------------------------------- options


def parse_digest(value, name):
    if value is None or value == "":
        return None
    text = value.strip().lower()
    if text.startswith(name + ":"):
        text = text[len(name) + 1:]
    if not _HEX[name].match(text):
        raise Failure("%s must be %d hex digits, got %r." % (name, 64 if name == "sha256" else 32, value))
    return text


def resolve_id(value, kind):
    """Owner or group name (or numeric id) -> numeric id; None stays None (leave as is)."""
    if value is None or value == "":
        return None
    if str(value).isdigit():
        return int(value)
    try:
        return pwd.getpwnam(value).pw_uid if kind == "owner" else grp.getgrnam(value).gr_gid
    except KeyError:
        raise Failure("%s %r does not exist on this host." % (kind, value))


def read_options(params):
    opts = dict(params)
    opts["sha256"] = parse_digest(params["sha256"], "sha256")
    opts["md5"] = parse_digest(params["md5"], "md5")
    try:
        opts["mode"] = parse_mode(params["mode"])
    except ValueError as exc:
        raise Failure(str(exc))
    opts["uid"] = resolve_id(params["owner"], "owner")
    opts["gid"] = resolve_id(params["group"], "group")
    opts["dest"] = os.path.abspath(params["dest"])
    if params["size"] is not None and params["size"] < 0:
        raise Failure("size must be the expected number of bytes, got %d." % params["size"])
    if params["max_seconds"] < 0:
        raise Failure("max_seconds must be 0 (until done) or a positive number, got %s." % params["max_seconds"])
    if params["timeout"] <= 0:
        raise Failure("timeout must be a positive number of seconds, got %d." % params["timeout"])
    if params["lock_timeout"] < 0:
        raise Failure("lock_timeout must be 0 (do not wait) or a positive number of seconds, got %s."
                      % params["lock_timeout"])
    opts["source"] = params["src"] or dl.redact_url(params["url"])
    return opts


def result(opts, state, changed, msg, **values):
    out = {"changed": changed, "dest": opts["dest"], "state": state, "sha256": None, "size": None,
           "bytes_downloaded": 0, "bytes_done": 0, "bytes_total": opts["size"], "resumed_from": 0,
           "would_download_bytes": 0, "cleaned_up": [], "seconds": 0, "msg": msg}
    out.update(values)
    return out


# ---------------------------------------------------------------- small file helpers


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def fix_attributes(path, uid, gid, mode, check_mode):
    """Apply owner, group and mode (any may be None) to one path without following links."""
    st = os.lstat(path)
    changed = False
    if (uid is not None and st.st_uid != uid) or (gid is not None and st.st_gid != gid):
        changed = True
        if not check_mode:
            os.lchown(path, -1 if uid is None else uid, -1 if gid is None else gid)
    if mode is not None and not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) != mode:
        changed = True
        if not check_mode:
            os.chmod(path, mode)
    return changed


def chown_tree(top, uid, gid):
    if uid is None and gid is None:
        return
    for root, dirs, files in os.walk(top):
        for name in [root] + [os.path.join(root, entry) for entry in dirs + files]:
            os.lchown(name, -1 if uid is None else uid, -1 if gid is None else gid)


def drop_stale_part(part, check_mode):
    """A part file left beside a destination that is already right only takes space (maybe gigabytes)."""
    if not os.path.lexists(part):
        return False
    if not check_mode:
        remove(part)
    return True


def drop_stale_push(opts, check_mode, now=None):
    """Remove a file the action pushed beside dest for an earlier run that never took it (killed mid-push).

    A push still being written is younger than STALE_PUSH_SECONDS, so another run's transfer is left
    alone (the push happens outside the host lock). The push this call was given as O(src) is kept
    for the caller. Returns the paths removed (none in check mode).
    """
    pushed = mf.controller_part_path(opts["dest"])
    if check_mode or (opts["src"] and os.path.abspath(opts["src"]) == pushed):
        return []
    try:
        age = (now if now is not None else time.time()) - os.lstat(pushed).st_mtime
    except OSError:
        return []
    if age < STALE_PUSH_SECONDS:
        return []
    remove(pushed)
    return [pushed]


def fsync_file(path):
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def require_room(directory, needed, what):
    if not needed or needed <= 0:
        return
    try:
        st = os.statvfs(directory)
    except OSError:
        return
    free = st.f_bavail * st.f_frsize
    if free < needed:
        raise Failure("Not enough space in %s for %s: %d more bytes are needed, %d are free."
                      % (directory, what, needed, free), bytes_needed=needed, bytes_free=free)


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def disk_full_message(opts, part, exc):
    dest = opts["dest"]
    kept = ("the previous %s is kept unchanged" % dest) if os.path.lexists(dest) else (
        "there was no previous %s" % dest)
    return ("The disk filled up while fetching %s: writing %s failed after %d bytes (%s). The partial download was "
            "removed to give the space back; %s. Free some space and run again."
            % (opts["source"], part, exc.bytes_now, os.strerror(exc.errno), kept))


def clear_leftovers(dest):
    """After a run killed mid-unpack: put a Vosk folder moved aside back when dest is gone, drop the rest.

    Returns the names removed or restored. Only called under the host lock or on a host with one writer.
    """
    parent, name = os.path.split(dest)
    touched = []
    for aside in sorted(glob.glob(os.path.join(glob.escape(parent), ".%s.old-*" % glob.escape(name)))):
        old = os.path.join(aside, name)
        if not os.path.lexists(dest) and os.path.isdir(old) and not os.path.islink(old):
            os.rename(old, dest)
            touched.append(dest)
        shutil.rmtree(aside, ignore_errors=True)
        touched.append(aside)
    for tmp in sorted(glob.glob(os.path.join(glob.escape(parent), ".%s.tmp-*" % glob.escape(name)))):
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
            touched.append(tmp)
    return touched


# ---------------------------------------------------------------- present check


def pins_text(opts):
    pins = []
    if opts["size"] is not None:
        pins.append("%d bytes" % opts["size"])
    if opts["sha256"]:
        pins.append("sha256 %s" % opts["sha256"])
    if opts["md5"]:
        pins.append("md5 %s" % opts["md5"])
    return ", ".join(pins) or "no pinned size or digest"


def present_file(opts, check_mode):
    """(digests, None) when dest is right, else (None, reason)."""
    dest = opts["dest"]
    try:
        st = os.stat(dest)
    except OSError:
        return None, "is missing"
    if not stat.S_ISREG(st.st_mode):
        raise Failure("%s exists but is not a regular file; remove it or choose another dest." % dest)
    if opts["size"] is not None and st.st_size != opts["size"]:
        return None, "has %d bytes, expected %d" % (st.st_size, opts["size"])
    names = ("sha256", "md5") if opts["md5"] else ("sha256",)
    digests, _cached = digest_cache.cached_digests(dest, names, write=not check_mode)
    for name in ("sha256", "md5"):
        if opts[name] and digests[name] != opts[name]:
            return None, "has %s %s, expected %s" % (name, digests[name], opts[name])
    if not opts["sha256"]:
        # Nothing pins the content: at least refuse what is not the format (an old truncated download).
        problem = FILE_CHECKS[opts["format"]](dest)
        if problem:
            return None, "fails the %s check (%s)" % (opts["format"], problem)
    digests["size"] = st.st_size
    return digests, None


def present_vosk(opts):
    dest = opts["dest"]
    if not os.path.lexists(dest):
        return None, "is missing"
    if os.path.islink(dest) or not os.path.isdir(dest):
        raise Failure("%s exists but is not a directory; remove it or choose another dest." % dest)
    marker = mf.read_marker(dest)
    if marker is None:
        return None, "has no readable %s (not unpacked by this module)" % mf.VOSK_MARKER
    for name in ("size", "sha256", "md5"):
        if opts[name] is not None and marker.get(name) != opts[name]:
            return None, "was unpacked from a zip with %s %s, expected %s" % (name, marker.get(name), opts[name])
    missing = mf.missing_vosk_folder(dest)
    if missing:
        return None, "has lost its %s/ folder" % missing
    return {"sha256": marker.get("sha256"), "size": marker.get("size")}, None


# ---------------------------------------------------------------- transfer and verify


def fetch(opts, part):
    """Bring the part file forward; returns download()'s dict."""
    if opts["src"]:
        return take_src(opts["src"], part, opts)
    return dl.download(opts["url"], part, expected_size=opts["size"], timeout=opts["timeout"],
                       max_seconds=opts["max_seconds"] or None, validate_certs=opts["validate_certs"],
                       digests=digest_names(opts))


def digest_names(opts):
    """The digests a part file is checked with: md5 where the registry gives one, and for Vosk zips."""
    return ("sha256", "md5") if opts["md5"] or opts["format"] == "vosk-zip" else ("sha256",)


def take_src(src, part, opts):
    """A file already on the host becomes the part file: renamed on the same filesystem, else copied."""
    try:
        src_stat = os.stat(src)
    except OSError as exc:
        raise dl.DownloadError("src %s cannot be used: %s." % (src, exc.strerror or exc))
    if not stat.S_ISREG(src_stat.st_mode):
        raise dl.DownloadError("src %s is not a regular file." % src)
    if os.path.realpath(src) != os.path.realpath(part):
        if src_stat.st_dev != os.stat(os.path.dirname(part)).st_dev:
            return dl.copy_local(src, part, opts["size"], opts["max_seconds"] or None)
        # Same filesystem: a rename is instant and leaves no second copy of gigabytes behind.
        os.replace(src, part)
    size = file_size(part)
    return {"bytes_before": size, "bytes_now": size, "complete": True, "total": size}


def verify_part(opts, part, streamed=None):
    """Size and digests of the complete part file; a mismatch removes it. Returns the digests.

    ``streamed`` are the digests hashed while a fresh download was written; without them the
    file is read and hashed here (a resumed download, a copy, a push from the controller).
    """
    actual = file_size(part)
    if opts["size"] is not None and actual != opts["size"]:
        remove(part)
        raise Failure("%s gave %d bytes, expected %d. The download was removed; %s was left untouched."
                      % (opts["source"], actual, opts["size"], opts["dest"]))
    names = digest_names(opts)
    if streamed and all(name in streamed for name in names):
        digests = dict((name, streamed[name]) for name in names)
    else:
        digests = digest_cache.file_digests(part, names)
    for name in ("sha256", "md5"):
        if opts[name] and digests[name] != opts[name]:
            remove(part)
            raise Failure("%s of %s is %s, expected %s. The download was removed; %s was left untouched."
                          % (name, opts["source"], digests[name], opts[name], opts["dest"]),
                          expected=opts[name], actual=digests[name])
    digests["size"] = actual
    return digests


def transfer(opts, part):
    """Download (or copy) into the part file.

    Returns (download stats, result for 'partial' or None, digests hashed while writing or None).
    """
    if os.path.islink(part):
        remove(part)  # never append through a link someone planted at our temporary name
    before = file_size(part)
    if opts["size"] is not None and not opts["src"]:
        require_room(os.path.dirname(part), opts["size"] - min(before, opts["size"]), opts["source"])
    try:
        got = fetch(opts, part)
    except dl.DownloadError as exc:
        if exc.errno in DISK_FULL:
            remove(part)
            raise Failure(disk_full_message(opts, part, exc), bytes_done=0, resumed_from=before,
                          bytes_total=exc.total if exc.total is not None else opts["size"], disk_full=True)
        if exc.discard:
            remove(part)
        extra = {"state": "partial"} if exc.resumable else {}
        raise Failure(str(exc), bytes_done=file_size(part), resumed_from=before,
                      bytes_total=exc.total if exc.total is not None else opts["size"], **extra)
    done = got["bytes_now"]
    downloaded = done - got["bytes_before"] if not got.get("restarted") else done
    stats = {"bytes_downloaded": max(downloaded, 0), "bytes_done": done,
             "bytes_total": got["total"] if got["total"] is not None else opts["size"], "resumed_from": before}
    if not got["complete"]:
        total = stats["bytes_total"]
        msg = "Fetched %d of %s bytes of %s in the %s s allowed; run again to continue." % (
            done, total if total is not None else "?", opts["source"], opts["max_seconds"])
        return stats, result(opts, "partial", downloaded > 0, msg, **stats), None
    return stats, None, got.get("digests")


# ---------------------------------------------------------------- the two kinds of destination


def ensure_file(module, opts):
    dest = opts["dest"]
    cleaned = drop_stale_push(opts, module.check_mode)
    found, reason = present_file(opts, module.check_mode)
    part = mf.part_path(opts["dest"], opts["format"])
    if found:
        changed = fix_attributes(dest, opts["uid"], opts["gid"], opts["mode"], module.check_mode)
        if changed and not module.check_mode:
            # A chown or chmod moves the ctime the cached digest is tied to: record it again.
            digest_cache.record(dest, found["sha256"], found.get("md5"))
        changed = drop_stale_part(part, module.check_mode) or changed or bool(cleaned)
        return result(opts, "present", changed, "%s is present and verified (%s)." % (dest, pins_text(opts)),
                      sha256=found["sha256"], size=found["size"], bytes_done=found["size"],
                      bytes_total=found["size"], cleaned_up=cleaned)
    if module.check_mode or opts["present_only"]:
        return would_download(opts, part, reason, changed=module.check_mode)
    require_parent(dest)
    started = time.monotonic()
    stats, partial, streamed = transfer(opts, part)
    if partial:
        partial["seconds"] = round(time.monotonic() - started, 3)
        return partial
    digests = verify_part(opts, part, streamed)
    problem = FILE_CHECKS[opts["format"]](part)
    if problem:
        remove(part)
        raise Failure("%s is not a usable %s file: %s The download was removed; %s was left untouched."
                      % (opts["source"], opts["format"], problem, dest))
    fsync_file(part)
    fix_attributes(part, opts["uid"], opts["gid"], opts["mode"], False)
    digest_cache.forget(dest)
    os.replace(part, dest)
    fsync_dir(os.path.dirname(dest))
    digest_cache.record(dest, digests["sha256"], digests.get("md5"))
    msg = "%s %s; fetched %s (%d bytes), verified it and put it in place." % (
        dest, reason, opts["source"], digests["size"])
    return result(opts, "downloaded", True, msg, sha256=digests["sha256"], size=digests["size"],
                  seconds=round(time.monotonic() - started, 3), cleaned_up=cleaned, **stats)


def ensure_vosk(module, opts):
    dest = opts["dest"]
    cleaned = [] if module.check_mode else clear_leftovers(dest) + drop_stale_push(opts, False)
    found, reason = present_vosk(opts)
    part = mf.part_path(opts["dest"], opts["format"])
    if found:
        changed = drop_stale_part(part, module.check_mode) or bool(cleaned)
        if fix_attributes(dest, opts["uid"], opts["gid"], None, True):
            changed = True
            if not module.check_mode:
                chown_tree(dest, opts["uid"], opts["gid"])
        return result(opts, "present", changed, "%s is present, unpacked from a verified zip (%s)."
                      % (dest, pins_text(opts)), sha256=found["sha256"], size=found["size"],
                      bytes_done=found["size"] or 0, bytes_total=found["size"], cleaned_up=cleaned)
    if module.check_mode or opts["present_only"]:
        return would_download(opts, part, reason, changed=module.check_mode)
    require_parent(dest)
    started = time.monotonic()
    stats, partial, streamed = transfer(opts, part)
    if partial:
        partial["seconds"] = round(time.monotonic() - started, 3)
        return partial
    digests = verify_part(opts, part, streamed)
    problem, plan = mf.inspect_vosk_zip(part, opts["size"], ZIP_MAX_RATIO)
    if problem:
        remove(part)
        raise Failure("%s is not a usable Vosk model zip: %s The download was removed; %s was left untouched."
                      % (opts["source"], problem, dest))
    require_room(os.path.dirname(dest), plan["bytes"], "unpacking %s" % opts["source"])
    marker = {"format": "vosk-zip", "sha256": digests["sha256"], "md5": digests["md5"], "size": digests["size"],
              "url": dl.redact_url(opts["url"]) if opts["url"] else None, "root": plan["root"]}

    def finish(tmp_dir):
        chown_tree(tmp_dir, opts["uid"], opts["gid"])

    problem, unpacked = mf.extract_vosk_zip(part, dest, plan, plan["bytes"], file_mode=opts["mode"], marker=marker,
                                            before_rename=finish)
    if problem:
        remove(part)
        raise Failure("%s The download was removed; %s was left untouched." % (problem, dest))
    fsync_dir(os.path.dirname(dest))
    remove(part)
    msg = "%s %s; fetched %s (%d bytes), verified it and unpacked %d files (%d bytes) from %s." % (
        dest, reason, opts["source"], digests["size"], unpacked["files"], unpacked["bytes"], plan["root"] or "/")
    return result(opts, "downloaded", True, msg, sha256=digests["sha256"], size=digests["size"], cleaned_up=cleaned,
                  seconds=round(time.monotonic() - started, 3), **stats)


def require_parent(dest):
    parent = os.path.dirname(dest)
    if not os.path.isdir(parent):
        raise Failure("The directory %s does not exist; create it first (ansible.builtin.file, state: directory)."
                      % parent)


def would_download(opts, part, reason, changed):
    have = file_size(part)
    if opts["src"]:
        remaining = 0
    elif opts["size"] is not None:
        remaining = max(opts["size"] - have, 0) if have <= opts["size"] else opts["size"]
    else:
        remaining = None
    detail = ""
    if remaining is not None:
        detail = " (%d bytes%s)" % (remaining, ", %d already in the part file" % have if have else "")
    msg = "%s %s; a real run would fetch %s%s." % (opts["dest"], reason, opts["source"], detail)
    return result(opts, "absent", changed, msg, would_download_bytes=remaining, bytes_done=have, resumed_from=have)


def main():
    module = ModelFileModule(
        argument_spec=dict(
            url=dict(type="str"),
            src=dict(type="path"),
            dest=dict(type="path", required=True),
            format=dict(type="str", required=True, choices=["gguf", "vosk-zip", "piper-onnx", "piper-config"]),
            present_only=dict(type="bool", default=False),
            sha256=dict(type="str"),
            md5=dict(type="str"),
            size=dict(type="int"),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw", default="0644"),
            max_seconds=dict(type="float", default=0),
            timeout=dict(type="int", default=30),
            validate_certs=dict(type="bool", default=True),
            host_lock=dict(type="path"),
            lock_timeout=dict(type="float", default=600),
        ),
        required_one_of=[("url", "src")],
        supports_check_mode=True,
    )
    opts = None
    try:
        opts = read_options(module.params)
        lock = None if module.check_mode else opts["host_lock"]
        with host_lock.held(lock, opts["lock_timeout"], "model_file %s" % opts["dest"]):
            if opts["format"] == "vosk-zip":
                outcome = ensure_vosk(module, opts)
            else:
                outcome = ensure_file(module, opts)
    except host_lock.LockError as exc:
        module.fail_json(msg=str(exc), dest=opts["dest"] if opts else module.params["dest"],
                         host_lock=module.params["host_lock"])
    except Failure as exc:
        extra = {"dest": opts["dest"] if opts else module.params["dest"]}
        extra.update(exc.extra)
        module.fail_json(msg=str(exc), **extra)
    except (IOError, OSError) as exc:
        module.fail_json(msg="Putting %s in place failed: %s (%s)." % (
            module.params["dest"], exc.strerror or exc, getattr(exc, "filename", None) or module.params["dest"]),
            dest=module.params["dest"])
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
