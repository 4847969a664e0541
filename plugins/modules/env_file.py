#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: env_file
short_description: Set the voice agent's model keys in its .env file and leave everything else untouched
version_added: 0.1.0
description:
  - Sets the keys given in O(values) in a C(.env) file read by docker compose C(env_file) and python-dotenv.
  - The same file holds the operator's passwords and API keys. Only the value of each key in O(values)
    is changed, in place on the line that both readers use (the last active assignment of that key).
    A key that has no active assignment is appended at the end, after a C(# Managed by voiceagent.models)
    comment line, which is added once.
  - Every other byte stays as it was, including comments, commented-out assignments (they are never
    un-commented), quoting, C(export) prefixes, trailing whitespace and CRLF line endings.
  - A key whose value is already the wanted one is left alone, so a second run reports no change and
    writes nothing.
  - Values are written unquoted when made only of C([A-Za-z0-9_./:@+,-]), single-quoted when they hold
    no C(') and no C(\), and double-quoted with C(\) and C(") escaped otherwise. Values holding a
    newline, carriage return, NUL, C(${), or C($) together with C(') or C(\) are refused, because
    the two readers cannot both read them back literally.
  - The file is replaced atomically. A temporary file in the same directory gets the existing file's
    mode, owner and group, is flushed to disk and renamed over the file.
  - No line of the file other than the keys in O(values) appears in any result, warning or error.
author:
  - voiceagent.models maintainers (@voiceagent)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - voiceagent.models._attributes
  - voiceagent.models._file_attributes
  - voiceagent.models._host_lock
attributes:
  diff_mode:
    support: full
    details: The diff holds only the keys of O(values) that change, one C(KEY=value) line each.
options:
  path:
    description:
      - The C(.env) file to edit.
    type: path
    required: true
  values:
    description:
      - The keys to set, C(KEY) to value. Keys must match C(^[A-Za-z_][A-Za-z0-9_]*$).
      - Values are strings, integers (written as digits), floats or booleans (written as C(true) and C(false)).
      - These are model paths and tuning numbers, not secrets. They appear in results and in the diff.
    type: dict
    required: true
  create:
    description:
      - Create the file when it does not exist. When V(false), a missing file is an error.
    type: bool
    default: true
  # owner, group and mode are described in voiceagent.models._file_attributes.
  owner:
    type: str
  group:
    type: str
  mode:
    default: '0600'
  follow:
    description:
      - What to do when O(path) is a symbolic link.
      - When V(false), the task fails and names the link and its target, so that a link
        pointing somewhere unexpected is never written through.
      - When V(true), the link's target is edited and the link itself is kept.
    type: bool
    default: false
notes:
  - O(mode) applies when the module creates the file; an existing file keeps its mode. O(owner) and O(group)
    apply when the file is created, and to an existing file only when given.
  - Under O(host_lock), the read, edit and write of the file happen under the lock, so two runs at once never
    lose each other's change. While holding it, the module also removes the temp copies
    (C(.<name>.XXXXXXXX.tmp)) that a run killed mid-write left beside the file; they may hold secrets. Without a
    lock they are left alone, because they could belong to a write in progress.
  - Keys are matched exactly and case-sensitively. Assignments with an C(export ) prefix or blanks
    around C(=) count; commented lines such as C(# LOCAL_LLM_MODEL_PATH=/old) never do.
  - See C(docs/env-file.md) in the collection for how docker compose and python-dotenv read each form.
seealso:
  - name: The .env file and this module
    description: What is changed, the quoting rules and how both readers read them.
    link: https://github.com/voiceagent/models/blob/main/docs/env-file.md
"""

EXAMPLES = r"""
- name: Point the agent at the selected models
  voiceagent.models.env_file:
    path: /opt/asterisk-ai-voice-agent/.env
    values:
      LOCAL_STT_MODEL_PATH: /app/models/stt/vosk-model-en-us-0.22
      LOCAL_LLM_MODEL_PATH: /app/models/llm/phi-3-mini-4k-instruct-q4.gguf
      LOCAL_TTS_MODEL_PATH: /app/models/tts/en_US-lessac-medium.onnx
      LOCAL_LLM_CONTEXT: 512
      LOCAL_LLM_MAX_TOKENS: 32
      LOCAL_LLM_TEMPERATURE: 0.7
      LOCAL_LLM_GPU_LAYERS: 0
      GPU_AVAILABLE: false
  register: agent_env

- name: Restart the agent only when a model key changed
  ansible.builtin.debug:
    msg: "Changed: {{ agent_env.changed_keys | join(', ') }}"
  when: agent_env is changed

- name: Own every file the collection writes as the agent's user (the action group voiceagent.models.files)
  module_defaults:
    group/voiceagent.models.files:
      owner: asterisk
      group: asterisk
      mode: "0640"
  block:
    - name: Write the .env with the owner, group and mode above
      voiceagent.models.env_file:
        path: /opt/asterisk-ai-voice-agent/.env
        values:
          LOCAL_LLM_GPU_LAYERS: 0

- name: Edit through a symbolic link on purpose
  voiceagent.models.env_file:
    path: /srv/agent/.env
    follow: true
    values:
      LOCAL_LLM_GPU_LAYERS: -1
"""

RETURN = r"""
path:
  description: The file as given in O(path).
  returned: always
  type: str
  sample: /opt/asterisk-ai-voice-agent/.env
changed_keys:
  description: Keys whose value changed or would change, added keys included. Names only.
  returned: always
  type: list
  elements: str
  sample: [LOCAL_LLM_MODEL_PATH, LOCAL_LLM_CONTEXT]
added_keys:
  description: Keys that had no active assignment and were, or would be, appended. Names only.
  returned: always
  type: list
  elements: str
  sample: [LOCAL_LLM_CONTEXT]
created:
  description: Whether the file did not exist and was, or would be, created.
  returned: always
  type: bool
  sample: false
cleaned_up:
  description:
    - Temp copies of the file that a killed run left beside it and that were removed (only under O(host_lock)).
  returned: always
  type: list
  elements: str
  sample: [/opt/asterisk-ai-voice-agent/..env.k2j4x9q_.tmp]
msg:
  description: One sentence about what was done.
  returned: always
  type: str
  sample: Set 2 keys in /opt/asterisk-ai-voice-agent/.env (1 added).
diff:
  description:
    - With C(--diff), one C(KEY=value) line per changed key of O(values) before and after.
      No other line of the file is ever included. An added key has no C(before) line.
  returned: when diff mode is on
  type: dict
  sample:
    before: "LOCAL_LLM_CONTEXT=512\n"
    after: "LOCAL_LLM_CONTEXT=1024\nLOCAL_LLM_BATCH=256\n"
    before_header: /opt/asterisk-ai-voice-agent/.env
    after_header: /opt/asterisk-ai-voice-agent/.env
"""

import errno
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import host_lock
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.atomic_write import (
    parse_mode,
    remove_leftover_temps,
    write_atomically,
)
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.dotenv_edit import set_keys

# Bytes that are not UTF-8 (an old latin-1 password) must survive the round trip.
ENCODING = "utf-8"
ERRORS = "surrogateescape"
NEW_FILE_MODE = 0o600


def resolve_target(path, follow):
    """The file to edit, or a ValueError naming a symbolic link and its target."""
    if not os.path.islink(path):
        return path
    target = os.readlink(path)
    if not follow:
        raise ValueError("%s is a symbolic link to %s. Refusing to write through it; "
                         "set follow=true to edit the link's target." % (path, target))
    return os.path.realpath(path)


def read_text(path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode(ENCODING, ERRORS)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def build_diff(path, changes):
    """Diff lines for the owned keys that change, and nothing else."""
    before = "".join("%s=%s\n" % (c["key"], c["before"]) for c in changes if c["before"] is not None)
    after = "".join("%s=%s\n" % (c["key"], c["after"]) for c in changes)
    return {"before": before, "after": after, "before_header": path, "after_header": path}


def summary(path, changed_keys, added_keys, created, owner_changed, check_mode):
    """One sentence for msg: key names and counts, never values."""
    verb = "Would set" if check_mode else "Set"
    if changed_keys or created:
        text = "%s %d key%s in %s" % (verb, len(changed_keys), "" if len(changed_keys) == 1 else "s", path)
        if added_keys:
            text += " (%d added)" % len(added_keys)
        if created:
            text += ", creating the file"
    else:
        text = "All keys already set in %s" % path
    if owner_changed and not created:
        text += "; %s owner or group" % ("would change" if check_mode else "changed")
    return text + "."


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            values=dict(type="dict", required=True),
            create=dict(type="bool", default=True),
            mode=dict(type="raw", default="0600"),
            owner=dict(type="str"),
            group=dict(type="str"),
            follow=dict(type="bool", default=False),
            host_lock=dict(type="path"),
            lock_timeout=dict(type="float", default=600),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]
    try:
        mode = parse_mode(params["mode"])
        target = resolve_target(path, params["follow"])
    except ValueError as exc:
        module.fail_json(msg=str(exc), path=path)

    if os.path.isdir(target):
        module.fail_json(msg="%s is a directory, not a .env file." % target, path=path)
    lock = None
    if params["host_lock"] and not module.check_mode:
        try:  # held from the read to the write; fail_json's exit drops it too
            lock = host_lock.acquire(params["host_lock"], params["lock_timeout"], "env_file %s" % path)
        except host_lock.LockError as exc:
            module.fail_json(msg=str(exc), path=path)
    # A run killed mid-write leaves a temp copy of the file, secrets included. Only the lock
    # holder may remove it: without the lock it could be a live writer's file.
    cleaned_up = remove_leftover_temps(target) if lock is not None else []
    try:
        text = read_text(target)
    except (IOError, OSError) as exc:
        module.fail_json(msg="Cannot read %s: %s." % (target, exc.strerror or exc.__class__.__name__), path=path)
    created = text is None
    if created:
        if not params["create"]:
            module.fail_json(msg="%s does not exist and create is false." % target, path=path)
        if not os.path.isdir(os.path.dirname(os.path.abspath(target))):
            module.fail_json(msg="The directory of %s does not exist." % target, path=path)
        text = ""

    try:
        new_text, changes = set_keys(text, params["values"])
    except ValueError as exc:
        # The message names the key only, never a value of the file.
        module.fail_json(msg=str(exc), path=path)

    changed_keys = [c["key"] for c in changes]
    added_keys = [c["key"] for c in changes if c["before"] is None]
    changed = created or new_text != text
    if changed and not module.check_mode:
        existing = None if created else os.stat(target)
        try:
            write_atomically(target, new_text.encode(ENCODING, ERRORS), mode, like=existing)
        except (IOError, OSError) as exc:
            module.fail_json(msg="Cannot write %s: %s." % (target, exc.strerror or exc.__class__.__name__), path=path)
    if lock is not None:
        host_lock.release(lock)

    # Owner and group only when given: a new file is then created with them,
    # an existing one keeps its own otherwise.
    owner_changed = False
    if not (created and module.check_mode):
        if params["owner"] is not None:
            owner_changed = module.set_owner_if_different(target, params["owner"], owner_changed)
        if params["group"] is not None:
            owner_changed = module.set_group_if_different(target, params["group"], owner_changed)

    result = dict(
        changed=changed or owner_changed or bool(cleaned_up),
        path=path,
        changed_keys=changed_keys,
        added_keys=added_keys,
        created=created,
        cleaned_up=cleaned_up,
        msg=summary(path, changed_keys, added_keys, created, owner_changed, module.check_mode),
    )
    if module._diff:
        result["diff"] = build_diff(path, changes)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
