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
  - voiceagent.models._attributes
  - voiceagent.models._file_attributes
  - voiceagent.models._host_lock
attributes:
  check_mode:
    details: Nothing is written or downloaded, and no network request is made.
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
  # owner, group and mode are described in voiceagent.models._file_attributes.
  owner:
    type: str
  group:
    type: str
  mode:
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
  upstream_url:
    description:
      - Controller (action plugin). The URL the file is known by in O(lock_file) and in the controller cache,
        when O(url) is a mirror of it. Defaults to O(url).
    type: str
  lock_file:
    description:
      - Controller (action plugin). A JSON lock file on the controller that pins the SHA-256 of files the
        registry gives none for, keyed by O(upstream_url).
      - Without O(sha256), a digest pinned there is used as O(sha256) (RV(digest_source=lock)). After a verified
        download whose digest was not pinned yet, it is recorded there (RV(digest_source=recorded)); another
        digest for the same URL fails the task.
    type: path
  progress_interval:
    description:
      - Controller (action plugin). Seconds per module call; after each one the controller prints a progress
        line (bytes done of the total) and calls the module again until the file is complete. Passed to the
        module as O(max_seconds).
      - V(0) transfers in one call without progress lines.
    type: float
    default: 0
  via_controller:
    description:
      - Controller (action plugin). Fetch the file once into O(controller_cache) on the controller and push it
        to the host, instead of every host downloading it. The host verifies the push and puts it in place as
        with O(src). Forks that need the same file wait for the first one's fetch.
      - The host is checked first (as with O(present_only)); nothing is fetched or pushed for a present O(dest).
      - Ignored in check mode.
    type: bool
    default: false
  controller_cache:
    description:
      - Controller (action plugin). The directory of the cache of O(via_controller) on the controller, with one
        file per SHA-256. Defaults to C(~/.cache/voiceagent/blobs).
    type: path
  digest_source:
    description:
      - Controller (action plugin). Where the given O(sha256) comes from, as the plan of the
        P(voiceagent.models.provision_plan#filter) filter names it (V(registry) or V(lock)); returned as
        RV(digest_source). Without O(sha256) it is ignored.
      - Defaults to V(registry) when O(sha256) is given.
    type: str
notes:
  - O(owner) and O(group) apply to the file, and for O(format=vosk-zip) to every file and directory of the
    model. O(mode) applies to the file, and for O(format=vosk-zip) to every file; directories always get C(0755).
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
digest_source:
  description:
    - Where the SHA-256 the file was checked with came from. V(registry) (or the given O(digest_source)) when
      O(sha256) was given; V(lock) when it was pinned in O(lock_file); V(recorded) when this download was the
      first and its digest was just pinned in O(lock_file); V(null) when nothing pins it.
    - Set by the action plugin on the controller.
  returned: success
  type: str
  sample: recorded
name:
  description: The file name of O(dest) (or the URL when O(dest) has none), as the progress lines name it.
  returned: success
  type: str
  sample: tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf
bytes_pushed:
  description:
    - With O(via_controller), the bytes pushed from the controller cache to the host; RV(bytes_downloaded)
      is then V(0), since the host downloaded nothing.
  returned: when the file was pushed from the controller
  type: int
  sample: 668788096
msg:
  description: One sentence on what happened.
  returned: always
  type: str
  sample: Downloaded https://example.org/x.gguf (668788096 bytes), verified it and put it at /opt/x.gguf.
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import host_lock
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_file_options import read_options
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.outcome import Failure
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.put_in_place import ensure


class ModelFileModule(AnsibleModule):
    def add_path_info(self, kwargs):
        # The generic file stats that exit_json adds for a 'dest' key would overwrite our
        # 'state' (present/downloaded/partial) and 'size' (of the download, not of a directory).
        return kwargs


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
            # Taken by the action plugin on the controller; they never reach the host.
            upstream_url=dict(type="str"),
            lock_file=dict(type="path"),
            progress_interval=dict(type="float", default=0),
            via_controller=dict(type="bool", default=False),
            controller_cache=dict(type="path"),
            digest_source=dict(type="str"),
        ),
        required_one_of=[("url", "src")],
        supports_check_mode=True,
    )
    opts = None
    try:
        opts = read_options(module.params)
        lock = None if module.check_mode else opts["host_lock"]
        with host_lock.held(lock, opts["lock_timeout"], "model_file %s" % opts["dest"]):
            outcome = ensure(module, opts)
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
