# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The host lock that every writing module of this collection takes for its write."""

    DOCUMENTATION = r"""
options:
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
      - Seconds to wait for O(host_lock) when another run holds it, then fail, naming the lock file and the run
        that holds it. V(0) fails at once.
    type: float
    default: 600
"""
