"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test (``--venv``) downloads ``get-pip-<version>.py`` from
ci-files.testing.ansible.com to put pip into the fresh virtual environment it
creates. Offline that download fails. This stand-in is copied to
``~/.ansible/test/cache/get_pip_<version>.py`` by ``tests/sanity/run-ansible-test.sh``:
it installs pip with ``ensurepip`` from the interpreter's own wheel, then runs
``pip install`` with the arguments ansible-test passes (the pinned pip,
setuptools and wheel), so this machine's pip configuration (mirrors, wheels
directory) decides where the packages come from.
"""
import os
import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    env = dict(os.environ)
    # ansible-test runs this through its quiet_pip wrapper; keep the caller's
    # environment (PIP_* settings included) for the real pip below.
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'], env=env)
    packages = [arg for arg in args if not arg.startswith('-')]
    options = [arg for arg in args if arg.startswith('-')]
    if packages:
        subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + options + packages, env=env)


if __name__ == '__main__':
    main()
