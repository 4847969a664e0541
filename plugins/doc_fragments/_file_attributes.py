# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Owner, group and mode of the files a module writes (the action group voiceagent.models.files sets them)."""

    # Each module sets the default of mode and says in its notes which files the three apply to.
    DOCUMENTATION = r"""
options:
  owner:
    description:
      - Name or numeric id of the user that owns the file.
      - When not given, the owner is left as it is.
    type: str
  group:
    description:
      - Name or numeric id of the group of the file.
      - When not given, the group is left as it is.
    type: str
  mode:
    description:
      - Permissions of the file, as an octal string such as V('0644') or a number. Quote it in YAML, because an
        unquoted C(600) is the decimal number 600 (an unquoted C(0644) is the same number as V('0644')).
      - Symbolic modes are not supported.
    type: raw
"""
