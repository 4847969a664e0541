# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a read-only tool (nvidia-smi, rocm-smi) with a hard time limit.

Standard library only: this file travels to managed hosts inside AnsiballZ.
"""

import errno
import os
import shutil
import signal
import subprocess

# How long to wait for a killed tool to go away. A tool stuck inside a wedged
# driver sits in uninterruptible sleep and ignores SIGKILL until the kernel lets
# go, so waiting for it without a bound would hang the play we were protecting.
_REAP_SECONDS = 1.0


class CommandTimeout(Exception):
    """The tool did not finish within its time limit."""

    def __init__(self, argv, timeout):
        self.argv = list(argv)
        self.timeout = timeout
        super(CommandTimeout, self).__init__(
            "%s did not answer within %s s" % (self.argv[0], format_seconds(timeout))
        )


def format_seconds(value):
    """``10.0`` -> ``"10"``, ``0.2`` -> ``"0.2"``: no trailing ``.0`` in sentences."""
    return "%g" % value


def _c_locale_env():
    # Tools translate messages and decimal marks; the parsers expect C output.
    env = dict(os.environ)
    env["LANG"] = "C"
    env["LC_ALL"] = "C"
    return env


def _kill_group(proc):
    # The tool runs in its own session, so this also reaches its children
    # (``sh -c`` wrappers, helpers) which would otherwise keep the pipes open.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        try:
            proc.kill()
        except OSError:
            pass


def run_command(argv, timeout):
    """Run ``argv`` and return ``(rc, stdout, stderr)`` as text.

    Raises FileNotFoundError when ``argv[0]`` is not on the PATH of this
    process and CommandTimeout when it runs longer than ``timeout`` seconds.
    """
    argv = list(argv)
    # Resolve through this process's PATH so a fake tool placed first on PATH
    # (tests, wrappers) is the one that runs.
    path = shutil.which(argv[0])
    if path is None:
        raise FileNotFoundError(errno.ENOENT, "command not found", argv[0])

    # subprocess.run() would kill the child on timeout and then wait for it
    # without a bound; Popen lets the wait after the kill be bounded too.
    proc = subprocess.Popen(
        [path] + argv[1:],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_c_locale_env(),
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            proc.communicate(timeout=_REAP_SECONDS)
        except subprocess.TimeoutExpired:
            for stream in (proc.stdout, proc.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
        raise CommandTimeout(argv, timeout)
    return (
        proc.returncode,
        out.decode("utf-8", errors="replace"),
        err.decode("utf-8", errors="replace"),
    )
