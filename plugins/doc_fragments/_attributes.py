# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The attributes the modules of this collection share (use with ansible.builtin.action_common_attributes)."""

    # Full check mode, no diff, POSIX hosts: model_file, model_plan and hardware_facts.
    # A module with a diff (env_file) sets diff_mode itself, which overrides this one.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

    # Modules that return ansible_facts (use with ansible.builtin.action_common_attributes.facts).
    FACTS = r"""
options: {}
attributes:
  facts:
    support: full
"""
