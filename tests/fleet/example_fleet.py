"""Run an example inventory (examples/inventory) as-is on the SSH fleet of tests/fleet/fleet.py.

    python tests/fleet/example_fleet.py up [--inventory examples/inventory]
                                          [--profile-map tests/fleet/examples-profiles.json]
                                          [--state-dir .fleet-ex] [--first-address 60]
    ansible-playbook -i examples/inventory -i .fleet-ex/overlay.yml playbooks/site.yml
    python tests/fleet/example_fleet.py down [--state-dir .fleet-ex]

``up`` reads the inventory with ``ansible-inventory --list`` and starts one SSH host per host
of the group ``voiceagent`` (127.0.0.N, N+1, ... in name order), each with the profile the
profile map gives it (by host name, else by its first group listed there). Every host gets its
own empty directory over each directory the inventory installs into (``voiceagent_install_dir``
of any host, e.g. /srv/voice-agent besides /opt/asterisk-ai-voice-agent). It starts the fleet's
local mirror, creates the system user and group named by ``voiceagent_owner``/``voiceagent_group``
when this machine lacks them, and the parent of ``voiceagent_controller_cache_dir`` when it is
missing. It writes ``<state-dir>/overlay.yml``, an inventory that only re-points:

* per host: ``ansible_host``/``ansible_port``, ``ansible_user: root`` with the fleet's key,
  ``ansible_become: false`` (already root; this machine has no sudo), ``ansible_python_interpreter``
  (this Python, which has psutil), and ``voiceagent_mirror_url`` (the local mirror). These are
  inventory host vars, which beat the example's ``group_vars/*`` files; the example's
  ``host_vars/*`` files beat them, and set none of these;
* for all: ``voiceagent_registry`` (the fleet's test registry: min_cpu_cores 1, synthetic files).

Everything else (tiers, pins, install dirs, .env paths, owner, controller cache, timeouts) is
the example's own. ``down`` stops the hosts and the mirror and removes exactly what ``up``
created: the user and group, the controller cache directories, the mount points.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import fleet  # noqa: E402
import mirror  # noqa: E402

GROUP = "voiceagent"
DEFAULT_INVENTORY = ROOT / "examples" / "inventory"
DEFAULT_MAP = HERE / "examples-profiles.json"
STATE_FILE = "example.json"
OVERLAY = "overlay.yml"


def read_inventory(inventory):
    """(host names of the group, hostvars, groups per host) as ansible-inventory resolves them."""
    tool = shutil.which("ansible-inventory", path=str(pathlib.Path(sys.executable).parent)) or "ansible-inventory"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    proc = subprocess.run([tool, "-i", str(inventory), "--list"], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, check=False)
    if proc.returncode:
        raise fleet.FleetError("ansible-inventory -i %s --list failed: %s" % (inventory, proc.stderr[-2000:]))
    data = json.loads(proc.stdout)

    def members(group, seen=()):
        entry = data.get(group) or {}
        found = list(entry.get("hosts") or [])
        for child in entry.get("children") or []:
            if child not in seen:
                found += members(child, seen + (group,))
        return found

    hosts = sorted(set(members(GROUP)))
    if not hosts:
        raise fleet.FleetError("%s has no hosts in the group %s" % (inventory, GROUP))
    groups = dict((h, [g for g in data if g not in ("_meta", "all") and h in data[g].get("hosts", [])])
                  for h in hosts)
    return hosts, data["_meta"]["hostvars"], groups


def pick_profiles(hosts, groups, profile_map):
    by_host = profile_map.get("hosts") or {}
    by_group = profile_map.get("groups") or {}
    picked = []
    for host in hosts:
        profile = by_host.get(host) or next((by_group[g] for g in groups[host] if g in by_group), None)
        if profile is None:
            raise fleet.FleetError("no profile for %s: name it under hosts, or one of its groups %s under groups, "
                                   "in the profile map" % (host, groups[host]))
        fleet.profile_dir(profile)
        picked.append(profile)
    return picked


def _run(cmd):
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, capture_output=True)


def ensure_account(owner, group, record):
    """Create the system group/user the inventory names when missing; record what was created."""
    import grp
    import pwd

    if group:
        try:
            grp.getgrnam(group)
        except KeyError:
            _run(["groupadd", "--system", group])
            record["created_group"] = group
    if owner:
        try:
            pwd.getpwnam(owner)
        except KeyError:
            cmd = ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                   "--shell", "/usr/sbin/nologin"]
            if group:
                cmd += ["--gid", group]
            _run(cmd + [owner])
            record["created_user"] = owner


def _user_exists(name):
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _group_exists(name):
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _save(state, record):
    path = state / STATE_FILE
    path.write_text(json.dumps(record, indent=2) + "\n")
    os.chmod(path, 0o600)


def write_overlay(state, fleet_record, mirror_info, python):
    lines = ["# Written by tests/fleet/example_fleet.py up; removed by its down.",
             "# Only connection details and the mirror: use it after the example inventory",
             "#   ansible-playbook -i examples/inventory -i %s playbooks/site.yml" % (state / OVERLAY),
             "all:",
             "  vars:",
             "    voiceagent_registry: %s" % json.dumps(mirror_info["registry"]),
             "  hosts:"]
    for host in fleet_record["hosts"]:
        lines += [
            "    %s:" % host["name"],
            "      ansible_host: %s" % host["address"],
            "      ansible_port: 22",
            "      ansible_user: root",
            "      ansible_become: false",
            "      ansible_ssh_private_key_file: %s" % json.dumps(str(state / "client_key")),
            "      ansible_ssh_common_args: %s" % json.dumps(
                "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"),
            "      ansible_python_interpreter: %s" % json.dumps(python),
            "      voiceagent_mirror_url: %s" % json.dumps(mirror_info["url"]),
            "      fleet_profile: %s" % host["profile"],
            "      fleet_dir: %s" % json.dumps(host["dir"]),
        ]
    path = state / OVERLAY
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o644)


def up(inventory=DEFAULT_INVENTORY, profile_map=DEFAULT_MAP, state_dir=".fleet-ex", first_address=60, python=None):
    state = pathlib.Path(state_dir).resolve()
    if (state / STATE_FILE).exists():
        raise fleet.FleetError("%s already holds an example fleet: run `down` first" % state)
    hosts, hostvars, groups = read_inventory(inventory)
    profiles = pick_profiles(hosts, groups, json.loads(pathlib.Path(profile_map).read_text()))
    python = python or sys.executable
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    record = {"inventory": str(pathlib.Path(inventory).resolve()), "made_dirs": []}
    _save(state, record)
    try:
        install_dirs = sorted(set(hostvars[h].get("voiceagent_install_dir", fleet.INSTALL_DIR) for h in hosts))
        for name in ("voiceagent_owner", "voiceagent_group"):
            values = set(hostvars[h].get(name) for h in hosts) - {None, ""}
            if len(values) > 1:
                raise fleet.FleetError("%s differs between hosts (%s): one account per fleet" % (name, sorted(values)))
        owner = next(iter(set(hostvars[h].get("voiceagent_owner") for h in hosts) - {None, ""}), None)
        group = next(iter(set(hostvars[h].get("voiceagent_group") for h in hosts) - {None, ""}), None)
        ensure_account(owner, group, record)
        _save(state, record)
        for cache in sorted(set(hostvars[h].get("voiceagent_controller_cache_dir") for h in hosts) - {None, ""}):
            if os.path.isabs(cache):
                fleet._ensure_mountpoint_tree(cache, record["made_dirs"])
        _save(state, record)
        info = mirror.start(str(state))
        record["mirror"] = True
        _save(state, record)
        fleet_record = fleet.up(len(hosts), profiles, str(state), first_address=first_address, names=hosts,
                                extra_mounts=install_dirs, python=python)
        fleet._CHILDREN.clear()
        write_overlay(state, fleet_record, info, python)
        record["hosts"] = [dict(name=h["name"], address=h["address"], profile=h["profile"], dir=h["dir"],
                                mounts=h["mounts"], expected_tier=h["expected_tier"]) for h in fleet_record["hosts"]]
        _save(state, record)
    except BaseException:
        down(state)
        raise
    return record


def down(state_dir=".fleet-ex"):
    """Stop the hosts and the mirror; remove the dirs, user and group that `up` created."""
    state = pathlib.Path(state_dir).resolve()
    path = state / STATE_FILE
    record = json.loads(path.read_text()) if path.exists() else {}
    errors = []
    try:
        fleet.down(str(state))
    except fleet.FleetError as exc:
        errors.append(str(exc))
    mirror.stop(str(state))
    for made in reversed(record.get("made_dirs", [])):
        # The controller cache dirs hold only what this fleet's runs put there.
        shutil.rmtree(made, ignore_errors=True)
        if os.path.exists(made):
            errors.append("could not remove %s" % made)
    if record.get("created_user") and _user_exists(record["created_user"]):
        try:
            _run(["userdel", record["created_user"]])
        except subprocess.CalledProcessError as exc:
            errors.append("userdel %s: %s" % (record["created_user"], exc.stderr))
    if record.get("created_group") and _group_exists(record["created_group"]):  # userdel may have removed it
        try:
            _run(["groupdel", record["created_group"]])
        except subprocess.CalledProcessError as exc:
            errors.append("groupdel %s: %s" % (record["created_group"], exc.stderr))
    if errors:
        raise fleet.FleetError("; ".join(errors))
    for name in (OVERLAY, STATE_FILE):
        if (state / name).exists():
            (state / name).unlink()
    if state.exists() and not any(state.iterdir()):
        state.rmdir()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start one SSH host per inventory host and write <state-dir>/overlay.yml")
    p_up.add_argument("--inventory", default=str(DEFAULT_INVENTORY))
    p_up.add_argument("--profile-map", default=str(DEFAULT_MAP))
    p_up.add_argument("--state-dir", default=".fleet-ex")
    p_up.add_argument("--first-address", type=int, default=60)
    p_up.add_argument("--python", help="ansible_python_interpreter (default: this Python)")
    p_down = sub.add_parser("down", help="stop everything up started and remove what it created")
    p_down.add_argument("--state-dir", default=".fleet-ex")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            record = up(args.inventory, args.profile_map, args.state_dir, args.first_address, args.python)
            for host in record["hosts"]:
                print("%-24s %-10s %-12s expects %s" % (host["name"], host["address"], host["profile"],
                                                        host["expected_tier"]))
            print("run: ansible-playbook -i %s -i %s/%s playbooks/site.yml" % (
                args.inventory, args.state_dir, OVERLAY))
        else:
            down(args.state_dir)
            print("example fleet in %s is down" % args.state_dir)
    except fleet.FleetError as exc:
        print("example_fleet: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
