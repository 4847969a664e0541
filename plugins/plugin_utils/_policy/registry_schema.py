# -*- coding: utf-8 -*-
# Copyright (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry's JSON Schema check and the words of its errors (a JSON path, a short value, a type).

Controller side; registry.py calls ``validate`` and raises what it returns through ``RegistryError``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import traceback

from collections.abc import Mapping

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry_url import url_problem

try:
    import jsonschema
    from jsonschema.exceptions import best_match
except ImportError:  # pragma: no cover - exercised only without jsonschema
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None

_HERE = os.path.dirname(os.path.abspath(__file__))
REGISTRY_DIR = os.path.normpath(os.path.join(_HERE, "..", "..", "..", "registry"))
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCHEMA_CACHE = {}


class RegistryError(ValueError):
    """A registry that cannot be used.

    ``path`` is a JSONPath (``$`` for the document itself), ``message`` says
    what is wrong and ``expected`` what would be valid.
    ``str()`` reads ``registry field <path>: <message> (<expected>)``.
    """

    def __init__(self, path, message, expected=None):
        super(RegistryError, self).__init__(path, message, expected)
        self.path = path or "$"
        self.message = message
        self.expected = expected

    def __str__(self):
        text = "registry field %s: %s" % (self.path, self.message)
        if self.expected:
            text += " (%s)" % self.expected
        return text


def schema_path():
    """Path of the registry's JSON Schema shipped with the collection."""
    return os.path.join(REGISTRY_DIR, "registry.schema.json")


def json_path(parts):
    """JSONPath text for a sequence of keys and list indexes."""
    out = "$"
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += "[%d]" % part
        elif isinstance(part, str) and _IDENTIFIER.fullmatch(part):
            out += "." + part
        else:
            out += "[%s]" % json.dumps(str(part))
    return out


def _show(value, limit=80):
    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return text


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return "a %s" % type(value).__name__


# --------------------------------------------------------------------------
# Reading


def _load_schema():
    path = schema_path()
    if path not in _SCHEMA_CACHE:
        try:
            with open(path, "rb") as handle:
                schema = json.loads(handle.read().decode("utf-8"))
        except (IOError, OSError, ValueError) as exc:
            raise RuntimeError("cannot load the registry schema %s: %s" % (path, exc))
        validator_cls = jsonschema.Draft202012Validator
        validator_cls.check_schema(schema)
        _SCHEMA_CACHE[path] = (schema, validator_cls(schema))
    return _SCHEMA_CACHE[path]


def _resolve(subschema, root):
    ref = subschema.get("$ref") if isinstance(subschema, Mapping) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return root.get("$defs", {}).get(ref[len("#/$defs/"):], {})
    return subschema if isinstance(subschema, Mapping) else {}


def _bound(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _schema_error(error, root):
    """Turn a jsonschema ValidationError into a RegistryError."""
    parts = list(error.absolute_path)
    sub = error.schema if isinstance(error.schema, Mapping) else {}
    expected = sub.get("description")
    kind = error.validator
    value = error.validator_value
    inst = error.instance

    if "propertyNames" in error.absolute_schema_path:
        parts.append(inst)
        return RegistryError(json_path(parts), "the name %s is not valid" % _show(inst), expected)

    if kind == "required":
        missing = [name for name in value if isinstance(inst, Mapping) and name not in inst]
        name = missing[0] if missing else value[0]
        prop = _resolve(sub.get("properties", {}).get(name, {}), root)
        return RegistryError(json_path(parts + [name]), "is missing",
                             prop.get("description") or "a required field")

    if kind == "additionalProperties" and isinstance(inst, Mapping):
        known = list(sub.get("properties", {}))
        extras = sorted(key for key in inst if key not in known)
        if extras:
            return RegistryError(json_path(parts + [extras[0]]), "is not a known key",
                                 "the only keys allowed here are " + ", ".join(known))

    if kind == "type":
        message = "%s is %s" % (_show(inst), _json_type(inst))
        if not expected:
            types = value if isinstance(value, list) else [value]
            expected = "of type " + " or ".join(types)
    elif kind == "minimum":
        message = "%s is less than %s" % (_show(inst), _bound(value))
    elif kind == "maximum":
        message = "%s is more than %s" % (_show(inst), _bound(value))
    elif kind == "pattern" and sub == root.get("$defs", {}).get("url") and url_problem(inst):
        message = "%s %s" % (_show(inst), url_problem(inst))
    elif kind in ("pattern", "maxLength", "minLength"):
        message = "%s is not valid" % _show(inst)
    elif kind in ("enum", "const"):
        message = "%s is not allowed" % _show(inst)
        if not expected:
            allowed = value if kind == "enum" else [value]
            expected = "one of " + ", ".join(_show(item) for item in allowed)
    elif kind == "minProperties":
        message = "is empty" if not inst else "has too few entries"
    elif kind == "minItems":
        message = "is empty" if not inst else "has too few items"
    elif kind == "maxItems":
        message = "has %d items, more than %s" % (len(inst), value)
    else:
        message = error.message
    return RegistryError(json_path(parts), message, expected or "see registry/registry.schema.json")


def _validate(data):
    if not HAS_JSONSCHEMA:
        # Callers can show JSONSCHEMA_IMPORT_ERROR (e.g. with missing_required_lib).
        raise ImportError("the Python library jsonschema is required to validate the model "
                          "tier registry (pip install jsonschema)")
    root, validator = _load_schema()
    error = best_match(validator.iter_errors(data))
    if error is not None:
        raise _schema_error(error, root)


# --------------------------------------------------------------------------
# Normalisation and semantic checks
