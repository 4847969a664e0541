# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn a tier decision into what provisioning does on one host: pure functions.

``provision_plan`` maps the tier's registry files to absolute paths on the
host (and URLs through the optional mirror), and computes the ``.env`` keys
the collection owns. The role only acts on this plan.
"""

import posixpath

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    urlsplit = None

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.agent_contract import agent_env, backends
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import iter_files
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry_url import url_problem

MIRROR_SCHEMES = ("https", "http", "file")
REGISTRY_PREFIX = "models/"


class PlanError(ValueError):
    """A plan input is invalid; the message names the value and what is valid."""


def _shown(url):
    """``url`` for an error message, with any user info replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return repr(url)
    if "@" in parts.netloc:
        url = url.replace(parts.netloc, "***@" + parts.netloc.rsplit("@", 1)[1], 1)
    return repr(url)


def check_mirror(mirror):
    """Raise PlanError unless ``mirror`` is an ``https://``, ``http://`` or ``file://`` base URL."""
    valid = ("it must be https://host/path, http://host/path or file:///absolute/path, "
             "without spaces or control characters")
    if not isinstance(mirror, str):
        raise PlanError("voiceagent_mirror_url must be a string, got %s; %s." % (type(mirror).__name__, valid))
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7f for char in mirror):
        raise PlanError("voiceagent_mirror_url %s holds a space or control character; %s." % (_shown(mirror), valid))
    try:
        parts = urlsplit(mirror)
        parts.port  # noqa: B018 - a bad port raises ValueError here
    except ValueError as exc:
        raise PlanError("voiceagent_mirror_url %s cannot be parsed (%s); %s." % (_shown(mirror), exc, valid))
    if parts.scheme not in MIRROR_SCHEMES or not mirror.lower().startswith(parts.scheme + "://"):
        raise PlanError("voiceagent_mirror_url %s must start with one of %s://; %s."
                        % (_shown(mirror), ", ".join(MIRROR_SCHEMES), valid))
    if "@" in parts.netloc:
        # The mirror URL is in every planned file's arguments, -vvv output and the fleet report.
        raise PlanError("voiceagent_mirror_url %s names a user or password; credentials in the URL would show in "
                        "task arguments, -vvv output and the fleet report. Give a mirror the hosts may read "
                        "without them; %s." % (_shown(mirror), valid))
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise PlanError("voiceagent_mirror_url %s must name an absolute path on the host, such as "
                            "file:///srv/mirror." % (_shown(mirror),))
    elif not parts.hostname:
        raise PlanError("voiceagent_mirror_url %s names no host; %s." % (_shown(mirror), valid))
    if parts.query or parts.fragment:
        raise PlanError("voiceagent_mirror_url %s has a query or fragment; %s." % (_shown(mirror), valid))


def check_upstream(url, where="url"):
    """Raise PlanError unless ``url`` is a registry URL: https, no user info, no . or .. segment."""
    problem = url_problem(url)
    if problem:
        raise PlanError("%s %s %s; a registry URL must be https://host/path without user info, spaces, "
                        "control characters or . and .. segments." % (where, _shown(url), problem))


def mirror_url(url, mirror=None, where="url"):
    """``https://host/path`` → ``<mirror>/host/path``; the URL itself without a mirror.

    The result is https unless a mirror is set, and never leaves the mirror's folder.
    """
    check_upstream(url, where)
    if not mirror:
        return url
    check_mirror(mirror)
    parts = urlsplit(url)
    return "%s/%s%s" % (mirror.rstrip("/"), parts.netloc, parts.path)


def host_path(models_dir, registry_path):
    """``models/llm/x.gguf`` under ``models_dir`` (the registry's paths start with models/)."""
    if not isinstance(registry_path, str) or not registry_path.startswith(REGISTRY_PREFIX):
        raise PlanError("registry path %r must start with %r." % (registry_path, REGISTRY_PREFIX))
    segments = registry_path[len(REGISTRY_PREFIX):].rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in segments) or "\\" in registry_path or "\x00" in registry_path:
        raise PlanError("registry path %r must stay inside the models folder: no empty, . or .. segment, "
                        "backslash or NUL." % (registry_path,))
    return posixpath.join(models_dir, registry_path[len(REGISTRY_PREFIX):])


def _entry(role, spec, models_dir, mirror, pins):
    dest = spec.get("target_path") if spec["format"] == "vosk-zip" else spec["dest_path"]
    sha256, source = spec.get("sha256"), "registry" if spec.get("sha256") else None
    pinned = pins.get(spec["url"]) if not sha256 else None
    if isinstance(pinned, dict) and pinned.get("sha256"):
        sha256, source = pinned["sha256"], "lock"
    return {
        "role": role,
        "name": posixpath.basename(dest),
        "url": mirror_url(spec["url"], mirror, "models.%s.url" % role),
        "upstream_url": spec["url"],
        "dest": host_path(models_dir, dest),
        "registry_path": dest,
        "format": spec["format"],
        "sha256": sha256,
        "digest_source": source,
        "md5": spec.get("md5"),
        "size": spec.get("size_bytes"),
        "size_exact": spec.get("size_exact", True),
    }


def plan_files(models, models_dir, mirror=None, lock=None):
    """The tier's files, STT first, each with its absolute host path and fetch URL.

    ``lock`` is the controller's digest lock (``{"files": {url: {"sha256": …}}}``): a file the
    registry has no sha256 for takes the pinned one, marked ``digest_source: lock``.
    """
    pins = (lock or {}).get("files") or {}
    return [_entry(spec["role"], spec, models_dir, mirror, pins) for spec in iter_files({"models": models})]


def _container_path(container_models_dir, registry_path):
    return host_path(container_models_dir.rstrip("/") or "/", registry_path)


def env_values(selection, container_models_dir, usable_cores, manage_backends=True):
    """The ``.env`` keys the collection owns, in a stable order (agent_contract says why each)."""
    models = selection["models"]
    onnx = [f for f in models["tts"]["files"] if f["format"] == "piper-onnx"]
    values = [
        ("LOCAL_STT_MODEL_PATH", _container_path(container_models_dir, models["stt"]["target_path"])),
        ("LOCAL_LLM_MODEL_PATH", _container_path(container_models_dir, models["llm"]["dest_path"])),
        ("LOCAL_TTS_MODEL_PATH", _container_path(container_models_dir, onnx[0]["dest_path"]) if onnx else ""),
    ]
    values.extend(agent_env(selection, usable_cores, manage_backends))
    return dict(values)


def provision_plan(selection, models_dir, container_models_dir="/app/models", mirror=None, usable_cores=1,
                   lock=None, manage_backends=True):
    """Everything the role needs for one host: files, .env values, and what to keep when pruning."""
    if not isinstance(selection, dict) or "models" not in selection or "env" not in selection:
        raise PlanError("The selection must be the result of voiceagent.models.select_tier, got %r."
                        % (type(selection).__name__,))
    if not models_dir or not models_dir.startswith("/"):
        raise PlanError("voiceagent_models_dir must be an absolute path, got %r." % (models_dir,))
    if not container_models_dir or not container_models_dir.startswith("/"):
        raise PlanError("voiceagent_container_models_dir must be an absolute path, got %r." % (container_models_dir,))
    files = plan_files(selection["models"], models_dir.rstrip("/"), mirror, lock if isinstance(lock, dict) else None)
    return {
        "tier": selection.get("tier"),
        "files": files,
        "env": env_values(selection, container_models_dir, usable_cores, manage_backends),
        "backends": backends(selection["models"]),
        "keep": sorted(f["dest"] for f in files),
        "directories": sorted(set(posixpath.dirname(f["dest"]) for f in files)),
    }
