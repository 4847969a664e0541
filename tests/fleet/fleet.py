"""A fleet of SSH hosts on one machine, each with its own mount namespace and hardware profile.

    python tests/fleet/fleet.py up --hosts N [--profiles p1,p2,...] [--state-dir .fleet]
                                   [--mirror-url URL] [--registry PATH] [--seed-env FILE]
                                   [--host-var HOST:KEY=VALUE ...] [--full-disk HOST[:SIZE]]
    python tests/fleet/fleet.py stop-host HOST [--state-dir .fleet]   # make one host unreachable
    python tests/fleet/fleet.py down [--state-dir .fleet]

Every host is an ``sshd`` listening on its own loopback address (127.0.0.2, .3, ...) with
its own host key. It runs as ``setsid unshare -m --propagation private sh -c '<mounts>;
exec sshd -D'``, so these bind mounts are seen by that host's sessions only:

* a per-host directory over ``/opt/asterisk-ai-voice-agent`` (the default install dir),
  or a tiny tmpfs there for a host with a full disk (``--full-disk``);
* a per-host directory over ``/var/cache/voiceagent`` (the fact module's default benchmark
  cache), pre-seeded with the profile's ``benchmark.json`` under the fingerprint the module
  will compute on that host, so it stands for slow or fast memory;
* the profile's ``meminfo`` and ``cpuinfo`` over ``/proc/meminfo`` and ``/proc/cpuinfo``;
* a memory cgroup directory over ``/sys/fs/cgroup/memory`` holding ``memory.limit_in_bytes``
  and ``memory.usage_in_bytes`` (the profile's, or "unlimited"): the fact module reads the
  mount point when its own group's directory is absent there;
* the profile's ``bin/`` (fake ``nvidia-smi``/``rocm-smi`` replaying captured output) as the
  first entry of the PATH an SSH session gets (``SetEnv PATH=...`` in the host's sshd_config).

Nothing is installed here: ``openssh-server`` must be (``make``/``.ci/run`` install it).
Teardown stops exactly the processes ``up`` started (and their children) and removes
what it made. Liveness is judged by whether the address accepts connections.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import platform
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import types

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROFILES_DIR = HERE / "profiles"
FIXTURES_DIR = ROOT / "tests" / "fixtures"
SSHD = "/usr/sbin/sshd"
# The agent's compose files and a docker stand-in that records its calls (no Docker engine here).
AGENT_STANDIN = pathlib.Path(__file__).resolve().parents[1] / "support" / "agent"
INSTALL_DIR = "/opt/asterisk-ai-voice-agent"
CACHE_DIR = "/var/cache/voiceagent"
CACHE_FILE = "hardware_benchmark.json"
CGROUP_MEMORY = "/sys/fs/cgroup/memory"
V1_UNLIMITED = "9223372036854771712\n"
DEFAULT_USAGE = "%d\n" % (512 * 1024 * 1024)
SESSION_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ALL_PROFILES = ["small-cpu", "big-cpu", "big-cpu-ddr3", "nvidia-12gb", "nvidia-4gb", "amd-gpu", "cgroup-6gb"]
FIRST_ADDRESS = 2


class FleetError(Exception):
    pass


# ----------------------------------------------------------------------------- collection helpers

def _module_utils(name):
    """Import one of the collection's module_utils from this checkout (no ansible needed)."""
    link = ROOT / ".collections"
    if (link / "ansible_collections" / "voiceagent" / "models").exists():
        if str(link) not in sys.path:
            sys.path.insert(0, str(link))
    elif "ansible_collections.voiceagent.models" not in sys.modules:
        for pkg, path in (("ansible_collections", []), ("ansible_collections.voiceagent", []),
                          ("ansible_collections.voiceagent.models", [str(ROOT)])):
            module = types.ModuleType(pkg)
            module.__path__ = path
            sys.modules.setdefault(pkg, module)
    return importlib.import_module("ansible_collections.voiceagent.models.plugins.module_utils._facts." + name)


def profile_dir(name):
    path = PROFILES_DIR / name
    if not (path / "meminfo").is_file() or not (path / "cpuinfo").is_file():
        known = sorted(p.name for p in PROFILES_DIR.iterdir() if p.is_dir())
        raise FleetError("unknown profile %r (known: %s)" % (name, ", ".join(known)))
    return path


def load_profile(name):
    path = profile_dir(name)
    meta = json.loads((path / "profile.json").read_text()) if (path / "profile.json").exists() else {}
    meta["name"] = name
    meta["benchmark"] = json.loads((path / "benchmark.json").read_text())
    return meta


def benchmark_fingerprint(root):
    """The fingerprint hardware_facts computes on a host whose /proc files are under ``root``.

    ``root`` holds ``proc/meminfo``, ``proc/cpuinfo`` (the profile's) and nothing else: CPU
    affinity and the cpu/cpuset cgroups are this machine's (they are not faked), memory
    total is MemTotal (what psutil reports), rounded as host_facts rounds it.
    """
    bench = _module_utils("benchmark")
    cgroups = _module_utils("cgroups")
    cpuinfo = _module_utils("cpuinfo")
    meminfo = _module_utils("meminfo")
    limits = cgroups.read_cgroup_limits("/")
    affinity = len(os.sched_getaffinity(0))
    cores = cgroups.usable_cores(affinity, limits.get("cpu_quota_cores"), limits.get("cpuset_cores"))
    model = cpuinfo.read_cpuinfo(str(root)).get("model")
    total = meminfo.read_meminfo(str(root))["total_bytes"]
    total_gb = round(total / 1024 ** 3, 2)
    return bench.fingerprint(platform.machine(), model, cores, total_gb)


def seed_benchmark_cache(cache_dir, root, figures, now=None):
    bench = _module_utils("benchmark")
    now = time.time() if now is None else now
    result = {
        "score": figures["score"],
        "memory_bandwidth_gbps": figures["memory_bandwidth_gbps"],
        "compute_ms": round(44.0 / figures["score"], 3) if figures.get("score") else None,
        "bandwidth_workers": 1,
        "bandwidth_buffer_mb": 256,
        "zlib": "fleet-profile",
        "seconds": 0.0,
        "version": bench.BENCHMARK_VERSION,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
    }
    bench.write_cache(str(cache_dir / CACHE_FILE), benchmark_fingerprint(root), result, now)


# ----------------------------------------------------------------------------- processes

def address_accepts(address, port=22, timeout=0.5):
    """True when something on address:port accepts a TCP connection and speaks SSH."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.settimeout(timeout * 4)
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _wait(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _proc_stat(pid):
    """(ppid, state, starttime) of a process, or None when it is gone."""
    try:
        text = pathlib.Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0], int(fields[19])


def _cmdline(pid):
    try:
        return pathlib.Path("/proc/%d/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(pid):
    """Every process below ``pid`` (ansible's workers start their own sessions, so a process group is not enough)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _proc_stat(int(entry))
            if info:
                children.setdefault(info[0], []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid):
    info = _proc_stat(pid)
    return info is not None and info[1] != "Z"


def _is_ours(host):
    """The recorded sshd is still the process we started (same start time, our config)."""
    pid = host.get("pid")
    info = _proc_stat(pid) if pid else None
    return bool(info) and info[2] == host.get("starttime") and host["sshd_config"] in _cmdline(pid)


def stop_sshd(host, wait=10):
    """Stop a host's listener and every process under it (the per-connection sshd children that
    keep Ansible's ControlPersist masters alive); then wait until the address refuses."""
    if _is_ours(host):
        pid = host["pid"]
        victims = descendants(pid) + [pid]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for victim in victims:
                try:
                    os.kill(victim, sig)
                except ProcessLookupError:
                    pass
            if _wait(lambda: not any(_alive(v) for v in victims), 3):
                break
        popen = _CHILDREN.pop(pid, None)
        if popen is not None:
            popen.wait(5)
        else:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
    if not _wait(lambda: not address_accepts(host["address"]), wait):
        raise FleetError("%s still accepts connections on %s:22" % (host["name"], host["address"]))


_CHILDREN = {}


# ----------------------------------------------------------------------------- up / down

def _write(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(path, mode)


def _strict_modes_ok(path):
    """sshd's StrictModes wants no group/world-writable directory above the key files."""
    for parent in [path] + list(path.parents):
        mode = parent.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH) or parent.stat().st_uid not in (0, os.getuid()):
            return False
    return True


def _ensure_mountpoint(path, made):
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o755)
        made.append(path)


def _parse_host_vars(items):
    result = {}
    for item in items or []:
        host, sep, pair = item.partition(":")
        key, eq, value = pair.partition("=")
        if not sep or not eq or not key:
            raise FleetError("--host-var wants HOST:KEY=VALUE, got %r" % item)
        try:
            value = json.loads(value)
        except ValueError:
            pass
        result.setdefault(host, {})[key] = value
    return result


def _host_name(number):
    return "h%02d" % number


def _ensure_mountpoint_tree(path, made):
    """Like _ensure_mountpoint, but records every directory it creates, parents first."""
    missing = []
    current = pathlib.Path(path)
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        os.mkdir(directory, 0o755)
        made.append(str(directory))


def _mount_dir_name(path):
    return "mnt" + path.replace("/", "-")


def up(hosts, profiles=None, state_dir=".fleet", mirror_url=None, registry=None, seed_env=None,
       host_vars=None, full_disk=None, python=None, extra_vars=None, first_address=FIRST_ADDRESS,
       names=None, extra_mounts=None, agent_compose=False):
    """Start ``hosts`` hosts (profiles cycled) and write ``<state_dir>/inventory.yml``.

    ``names``: the hosts' names (default h<N>). ``extra_mounts``: absolute directories that every
    host sees as its own empty directory (``<host dir>/mnt-<path>``), besides the install dir:
    for an inventory that installs elsewhere or keeps other state on the hosts.
    ``agent_compose``: the agent's compose files in every install dir and the tests' ``docker``
    stand-in (tests/support/agent/) first on every host's PATH; it logs to ``<host dir>/docker-calls.log``.
    """
    if not os.path.isfile(SSHD) or not os.access(SSHD, os.X_OK):
        raise FleetError("%s is missing: install openssh-server (apt-get install openssh-server)" % SSHD)
    for tool in ("ssh-keygen", "unshare", "setsid", "mount"):
        if shutil.which(tool) is None:
            raise FleetError("%s is not on PATH" % tool)
    if os.geteuid() != 0:
        raise FleetError("the fleet needs root (mount namespaces, bind mounts, sshd on port 22)")
    state = pathlib.Path(state_dir).resolve()
    if (state / "state.json").exists():
        raise FleetError("%s already holds a fleet: run `down` first" % state)
    profiles = profiles or ALL_PROFILES
    for name in profiles:
        profile_dir(name)
    host_vars = host_vars or {}
    full_disk = dict(full_disk or {})
    python = python or sys.executable
    names = list(names or [])
    if names and len(names) != hosts:
        raise FleetError("%d names for %d hosts" % (len(names), hosts))
    extra_mounts = sorted(set(extra_mounts or []) - {INSTALL_DIR, CACHE_DIR})
    for path in extra_mounts:
        if not os.path.isabs(path) or os.path.normpath(path) != path or path == "/":
            raise FleetError("extra mount %r: give a normalized absolute directory other than /" % path)

    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    record = {"state_dir": str(state), "hosts": [], "made_dirs": [], "python": python}
    _write(state / "state.json", json.dumps(record, indent=2))
    try:
        _ensure_mountpoint("/run/sshd", record["made_dirs"])
        _ensure_mountpoint(INSTALL_DIR, record["made_dirs"])
        _ensure_mountpoint(CACHE_DIR, record["made_dirs"])
        for path in extra_mounts:
            _ensure_mountpoint_tree(path, record["made_dirs"])
        _write(state / "state.json", json.dumps(record, indent=2))

        key = state / "client_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "voiceagent-fleet",
                        "-f", str(key)], check=True, stdin=subprocess.DEVNULL)
        os.chmod(key, 0o600)
        _write(state / "authorized_keys", (state / "client_key.pub").read_text())
        strict = "yes" if _strict_modes_ok(state) else "no"

        for index in range(hosts):
            number = first_address + index
            if not 2 <= number <= 254:
                raise FleetError("host addresses run from 127.0.0.2 to 127.0.0.254, not 127.0.0.%d" % number)
            name = names[index] if names else _host_name(number)
            address = "127.0.0.%d" % number
            if address_accepts(address):
                raise FleetError("%s:22 is already taken" % address)
            profile = load_profile(profiles[index % len(profiles)])
            hdir = state / "hosts" / name
            for sub in ("", "root/proc", "cgroup-memory", "bin", "install", "cache") + tuple(
                    _mount_dir_name(p) for p in extra_mounts):
                (hdir / sub).mkdir(mode=0o700 if sub == "" else 0o755, parents=True, exist_ok=True)
            pdir = profile_dir(profile["name"])
            shutil.copyfile(pdir / "meminfo", hdir / "root" / "proc" / "meminfo")
            shutil.copyfile(pdir / "cpuinfo", hdir / "root" / "proc" / "cpuinfo")
            cg = pdir / "cgroup" / "memory"
            for fname, default in (("memory.limit_in_bytes", V1_UNLIMITED), ("memory.usage_in_bytes", DEFAULT_USAGE)):
                text = (cg / fname).read_text() if (cg / fname).exists() else default
                _write(hdir / "cgroup-memory" / fname, text, 0o644)
            if (pdir / "bin").is_dir():
                for tool in (pdir / "bin").iterdir():
                    text = tool.read_text().replace("@FIXTURES@", str(FIXTURES_DIR))
                    _write(hdir / "bin" / tool.name, text, 0o755)
            os.chmod(hdir / "install", 0o755)
            if agent_compose:
                for fname in ("docker-compose.yml", "docker-compose.gpu.yml"):
                    shutil.copyfile(AGENT_STANDIN / fname, hdir / "install" / fname)
                _write(hdir / "bin" / "docker", (AGENT_STANDIN / "docker").read_text(), 0o755)
            seed_benchmark_cache(hdir / "cache", hdir / "root", profile["benchmark"])
            if seed_env and name not in full_disk and name not in (host_vars.get("_no_env") or []):
                shutil.copyfile(seed_env, hdir / "install" / ".env")
                os.chmod(hdir / "install" / ".env", 0o600)

            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hdir / "ssh_host_ed25519_key")],
                           check=True, stdin=subprocess.DEVNULL)
            conf = hdir / "sshd_config"
            _write(conf, "\n".join([
                "# voiceagent fleet host %s (%s), written by tests/fleet/fleet.py" % (name, profile["name"]),
                "ListenAddress %s:22" % address,
                "HostKey %s" % (hdir / "ssh_host_ed25519_key"),
                "PidFile %s" % (hdir / "sshd.pid"),
                "AuthorizedKeysFile %s" % (state / "authorized_keys"),
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes %s" % strict,
                "UseDNS no",
                "MaxStartups 200",
                "MaxSessions 200",
                "SetEnv PATH=%s:%s" % (hdir / "bin", SESSION_PATH),
                "Subsystem sftp internal-sftp",
                "LogLevel ERROR",
                "",
            ]))
            mounts = []
            if name in full_disk:
                mounts.append("mount -t tmpfs -o size=%s,mode=0755 voiceagent-full %s"
                              % (shlex.quote(full_disk[name]), INSTALL_DIR))
            else:
                mounts.append("mount --bind %s %s" % (shlex.quote(str(hdir / "install")), INSTALL_DIR))
            mounts += ["mount --bind %s %s" % (shlex.quote(str(hdir / _mount_dir_name(p))), shlex.quote(p))
                       for p in extra_mounts]
            mounts += [
                "mount --bind %s %s" % (shlex.quote(str(hdir / "cache")), CACHE_DIR),
                "mount --bind %s /proc/meminfo" % shlex.quote(str(hdir / "root" / "proc" / "meminfo")),
                "mount --bind %s /proc/cpuinfo" % shlex.quote(str(hdir / "root" / "proc" / "cpuinfo")),
                "mount --bind %s %s" % (shlex.quote(str(hdir / "cgroup-memory")), CGROUP_MEMORY),
                "exec %s -D -e -f %s" % (SSHD, shlex.quote(str(conf))),
            ]
            log = open(hdir / "sshd.log", "ab")
            popen = subprocess.Popen(
                ["setsid", "unshare", "-m", "--propagation", "private", "sh", "-ec", "; ".join(mounts)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True, cwd="/")
            log.close()
            _CHILDREN[popen.pid] = popen
            info = _proc_stat(popen.pid)
            host = {"name": name, "address": address, "profile": profile["name"], "pid": popen.pid,
                    "starttime": info[2] if info else None, "sshd_config": str(conf), "dir": str(hdir),
                    "expected_tier": profile.get("expected_tier"), "full_disk": name in full_disk,
                    "docker_log": str(hdir / "docker-calls.log") if agent_compose else None,
                    "vars": host_vars.get(name, {}),
                    "mounts": dict((p, str(hdir / _mount_dir_name(p))) for p in extra_mounts)}
            record["hosts"].append(host)
            _write(state / "state.json", json.dumps(record, indent=2))
        for host in record["hosts"]:
            if not _wait(lambda: address_accepts(host["address"]), 15):
                raise FleetError("%s (%s) did not start: %s" % (
                    host["name"], host["address"], pathlib.Path(host["dir"], "sshd.log").read_text()[-2000:]))
            pid_file = pathlib.Path(host["dir"], "sshd.pid")
            if pid_file.exists() and int(pid_file.read_text().split()[0]) != host["pid"]:
                raise FleetError("%s: sshd wrote pid %s, expected %s" % (host["name"], pid_file.read_text().strip(),
                                                                         host["pid"]))
        write_inventory(record, state, python, mirror_url, registry, extra_vars)
    except BaseException:
        down(state)
        raise
    return record


def write_inventory(record, state, python, mirror_url=None, registry=None, extra_vars=None):
    def scalar(value):
        return json.dumps(value)

    lines = ["# Written by tests/fleet/fleet.py up; removed by fleet.py down.", "all:"]
    all_vars = dict(extra_vars or {})
    if mirror_url:
        all_vars["voiceagent_mirror_url"] = mirror_url
    if registry:
        all_vars["voiceagent_registry"] = str(pathlib.Path(registry).resolve())
    if all_vars:
        lines.append("  vars:")
        lines += ["    %s: %s" % (k, scalar(v)) for k, v in sorted(all_vars.items())]
    lines += ["  children:", "    voiceagent:", "      hosts:"]
    for host in record["hosts"]:
        lines.append("        %s:" % host["name"])
        lines.append("          ansible_host: %s" % host["address"])
        lines.append("          fleet_profile: %s" % host["profile"])
        lines.append("          fleet_expected_tier: %s" % scalar(host["expected_tier"]))
        lines.append("          fleet_full_disk: %s" % scalar(host["full_disk"]))
        for key, value in sorted(host["vars"].items()):
            lines.append("          %s: %s" % (key, scalar(value)))
    lines += [
        "      vars:",
        "        ansible_user: root",
        "        ansible_port: 22",
        "        ansible_ssh_private_key_file: %s" % scalar(str(state / "client_key")),
        "        ansible_ssh_common_args: %s" % scalar(
            "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"),
        "        ansible_python_interpreter: %s" % scalar(python),
        "",
    ]
    _write(state / "inventory.yml", "\n".join(lines), 0o644)


def _load(state_dir):
    state = pathlib.Path(state_dir).resolve()
    path = state / "state.json"
    if not path.exists():
        return state, None
    return state, json.loads(path.read_text())


def stop_host(name, state_dir=".fleet"):
    state, record = _load(state_dir)
    if record is None:
        raise FleetError("no fleet in %s" % state)
    for host in record["hosts"]:
        if host["name"] == name:
            stop_sshd(host)
            return host
    raise FleetError("no host %s in %s" % (name, state))


def down(state_dir=".fleet"):
    """Stop every sshd `up` started (with its children) and remove what `up` made."""
    state, record = _load(state_dir)
    if record is None:
        if state.exists() and not any(state.iterdir()):
            state.rmdir()
        return
    errors = []
    for host in record["hosts"]:
        try:
            stop_sshd(host)
        except FleetError as exc:
            errors.append(str(exc))
    busy = mount_points_in_use()
    for path in reversed(record.get("made_dirs", [])):
        if path in busy:
            # Another fleet's hosts (another state dir) mount over it: removing the directory would
            # detach their mounts in their namespaces. Leave it empty; it is only a mount point.
            continue
        try:
            os.rmdir(path)  # only when empty: never remove what someone else put there
        except FileNotFoundError:
            pass  # already gone (another fleet made and removed it too)
        except OSError as exc:
            errors.append("could not remove %s: %s" % (path, exc))
    if errors:
        raise FleetError("; ".join(errors))
    for name in ("hosts", "client_key", "client_key.pub", "authorized_keys", "inventory.yml", "state.json"):
        target = state / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    if state.exists() and not any(state.iterdir()):
        state.rmdir()


def mount_points_in_use():
    """Every mount point of every live mount namespace on this machine (one mountinfo per namespace).

    Removing a directory that is a mount point in another namespace detaches that mount there, so
    `down` leaves alone any mount point it made that another fleet still uses.
    """
    seen, points = set(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            namespace = os.readlink("/proc/%s/ns/mnt" % entry)
            if namespace in seen:
                continue
            text = pathlib.Path("/proc/%s/mountinfo" % entry).read_text()
        except OSError:
            continue
        seen.add(namespace)
        for line in text.splitlines():
            fields = line.split(" ")
            if len(fields) > 4:
                points.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def status(state_dir=".fleet"):
    state, record = _load(state_dir)
    if record is None:
        return []
    return [dict(host, accepts=address_accepts(host["address"])) for host in record["hosts"]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the hosts and write <state-dir>/inventory.yml")
    p_up.add_argument("--hosts", type=int, default=len(ALL_PROFILES))
    p_up.add_argument("--profiles", default=",".join(ALL_PROFILES), help="comma-separated, cycled over the hosts")
    p_up.add_argument("--state-dir", default=".fleet")
    p_up.add_argument("--mirror-url", help="written into the inventory as voiceagent_mirror_url")
    p_up.add_argument("--registry", help="written into the inventory as voiceagent_registry")
    p_up.add_argument("--seed-env", help="a .env copied (mode 0600) into every host's install dir")
    p_up.add_argument("--no-env", action="append", default=[], metavar="HOST", help="no seeded .env on HOST")
    p_up.add_argument("--host-var", action="append", default=[], metavar="HOST:KEY=VALUE")
    p_up.add_argument("--var", action="append", default=[], metavar="KEY=VALUE", help="an inventory var for all")
    p_up.add_argument("--full-disk", action="append", default=[], metavar="HOST[:SIZE]",
                      help="a tiny tmpfs (default 16k) over HOST's install dir")
    p_up.add_argument("--python", help="ansible_python_interpreter (default: this Python)")
    p_up.add_argument("--agent-compose", action="store_true",
                      help="the agent's compose files in each install dir and a docker stand-in that logs its calls")
    p_up.add_argument("--first-address", type=int, default=FIRST_ADDRESS,
                      help="last octet of the first host's address (default %(default)s): 127.0.0.N, N+1, ...")
    p_stop = sub.add_parser("stop-host", help="stop one host's sshd and its children")
    p_stop.add_argument("host")
    p_stop.add_argument("--state-dir", default=".fleet")
    p_down = sub.add_parser("down", help="stop every host and remove the state dir's files")
    p_down.add_argument("--state-dir", default=".fleet")
    p_status = sub.add_parser("status", help="list the hosts and whether each accepts connections")
    p_status.add_argument("--state-dir", default=".fleet")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            host_vars = _parse_host_vars(args.host_var)
            host_vars["_no_env"] = args.no_env
            extra = {}
            for pair in args.var:
                key, _sep, value = pair.partition("=")
                extra[key] = value
            full = dict((item.partition(":")[0], item.partition(":")[2] or "16k") for item in args.full_disk)
            record = up(args.hosts, [p for p in args.profiles.split(",") if p], args.state_dir, args.mirror_url,
                        args.registry, args.seed_env, host_vars, full, args.python, extra,
                        args.first_address, agent_compose=args.agent_compose)
            for host in record["hosts"]:
                print("%-4s %-10s %-13s expects %s" % (host["name"], host["address"], host["profile"],
                                                       host["expected_tier"]))
            print("inventory: %s/inventory.yml" % record["state_dir"])
            # The sshd processes live on in their own sessions; do not wait for them.
            _CHILDREN.clear()
        elif args.command == "stop-host":
            host = stop_host(args.host, args.state_dir)
            print("%s (%s) stopped" % (host["name"], host["address"]))
        elif args.command == "down":
            down(args.state_dir)
            print("fleet in %s is down" % args.state_dir)
        else:
            for host in status(args.state_dir):
                print("%-4s %-10s %-13s %s" % (host["name"], host["address"], host["profile"],
                                               "up" if host["accepts"] else "down"))
    except FleetError as exc:
        print("fleet: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
