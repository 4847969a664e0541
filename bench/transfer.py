"""Transfer (issue #5 part 5): the role's download against curl, hash throughput, fetch-once fan-out.

Usage (root and openssh-server for the fleet part; after `make demo` or `make test`):
    .venv/bin/python bench/transfer.py [--size-mib 1024] [--runs 3] [--hosts 10] [--no-fleet]

1. A GGUF file of --size-mib MiB (a valid header, then random bytes so nothing compresses) is
   written into .fleet-bench-transfer/ (git-ignored; removed at the end unless --keep-file) and served by
   tests/support/mirror_server.py on 127.0.0.1.
2. Per round, `curl -s -o FILE URL` and the role's download, `ansible localhost -m
   voiceagent.models.model_file` with the real sha256 and size, format=gguf and the role's
   progress_interval of 10 s, each into an empty directory. The goal's ratio (>= 0.8) compares
   the downloads: curl's own time_total against the module's `seconds`, from its first request to
   the verified, fsynced file renamed into place (the hash runs while the bytes arrive). Wall
   seconds of both commands, Ansible's fixed cost per call (`ansible -m ping`) and an fsync of
   curl's file are recorded beside it.
3. Hash throughput of digest_cache.file_digests on that file (sha256; sha256 + md5), file in page cache.
4. Unless --no-fleet: --hosts fleet hosts (tests/fleet/fleet.py, 127.0.0.100 and up, state in
   .fleet-bench/) run playbooks/site.yml with voiceagent_fetch_via_controller=true and forks = hosts,
   against the fleet's synthetic mirror served in this process, so every request is counted:
   GET requests per unique file path (goal: 1 each).
Writes bench/results/transfer.json and prints a summary.
"""
import argparse
import json
import os
import pathlib
import shutil
import struct
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import ROOT, fleet, spread, timed, write_result  # noqa: E402

sys.path.insert(0, str(ROOT / ".collections"))
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "tests" / "fleet"))
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.digest_cache import file_digests  # noqa: E402
from mirror_server import MirrorServer  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
WORK = ROOT / ".fleet-bench-transfer"
FLEET_STATE = ROOT / ".fleet-bench"
FIRST_ADDRESS = 100
GGUF_ALIGNMENT = 32
GGML_F32 = 0
TENSOR = b"blob"


def gguf_header(total_size):
    """Header of a GGUF v3 file of exactly ``total_size`` bytes: one F32 tensor fills the rest; pure."""
    fixed = 4 + 4 + 8 + 8 + 8 + len(TENSOR) + 4 + 8 + 4 + 8
    padded = -(-fixed // GGUF_ALIGNMENT) * GGUF_ALIGNMENT
    data = total_size - padded
    if data <= 0 or data % 4:
        raise ValueError("a GGUF file of %d bytes cannot hold one whole F32 tensor after a %d-byte header"
                         % (total_size, padded))
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, 0)
    head += struct.pack("<Q", len(TENSOR)) + TENSOR + struct.pack("<IQIQ", 1, data // 4, GGML_F32, 0)
    return head + b"\0" * (padded - len(head))


def throughput_ratio(role_s, curl_s):
    """Role throughput over curl throughput for the same bytes (= curl seconds / role seconds); pure."""
    if not role_s or curl_s is None:
        return None
    return round(curl_s / role_s, 3)


def counts_per_file(requests, files):
    """GET requests per served file path, from a mirror request log of (method, path, range); pure."""
    counts = dict((path, 0) for path in files)
    for method, path, _range in requests:
        if method == "GET" and path in counts:
            counts[path] += 1
    return counts


def make_file(path, size):
    """Write the test file once (random data after the header); reuse it while its size is right."""
    if path.is_file() and path.stat().st_size == size:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    header = gguf_header(size)
    with open(tmp, "wb") as handle:
        handle.write(header)
        left = size - len(header)
        while left:
            piece = os.urandom(min(left, 16 << 20))
            handle.write(piece)
            left -= len(piece)
    os.replace(str(tmp), str(path))
    return True


def fresh_dir(path):
    shutil.rmtree(str(path), ignore_errors=True)
    path.mkdir(parents=True)
    return path


def ansible_env(**extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal")
    env.update(extra)
    return env


def curl_once(url, out_dir):
    """(wall seconds, curl's own time_total, seconds of an fsync of the file after it)."""
    target = fresh_dir(out_dir) / "model.gguf"
    wall, out = timed(["curl", "-sS", "--fail", "-o", str(target), "-w", "%{time_total}", url])
    started = time.monotonic()
    fd = os.open(str(target), os.O_RDONLY)
    try:
        os.fsync(fd)  # the role fsyncs before its rename; curl does not
    finally:
        os.close(fd)
    return wall, float(out.strip()), time.monotonic() - started


def role_once(url, out_dir, sha256, size):
    dest = fresh_dir(out_dir) / "model.gguf"
    args = ("url=%s dest=%s format=gguf sha256=%s size=%d progress_interval=10 lock_file=%s"
            % (url, dest, sha256, size, out_dir / "lock.json"))
    wall, out = timed([str(BIN / "ansible"), "localhost", "-c", "local", "-e",
                       "ansible_python_interpreter=" + sys.executable, "-m", "voiceagent.models.model_file",
                       "-a", args], ansible_env())
    result = json.loads(out.split("=>", 1)[1])
    if result.get("state") != "downloaded" or result.get("sha256") != sha256:
        raise SystemExit("the role's download did not end verified: %s" % result)
    return wall, float(result["seconds"])


def ping_once():
    """Wall seconds of `ansible localhost -m ansible.builtin.ping`: Ansible's fixed cost per ad-hoc call."""
    return timed([str(BIN / "ansible"), "localhost", "-c", "local", "-e",
                  "ansible_python_interpreter=" + sys.executable, "-m", "ansible.builtin.ping"], ansible_env())[0]


def hash_rates(path, size, runs):
    rates = {"sha256": [], "sha256+md5": []}
    for _run in range(runs):
        for label, names in (("sha256", ("sha256",)), ("sha256+md5", ("sha256", "md5"))):
            started = time.monotonic()
            file_digests(str(path), names)
            rates[label].append(size / 1e6 / (time.monotonic() - started))
    return dict((label, spread(values)) for label, values in rates.items())


def single_file(args):
    size = args.size_mib << 20
    source_dir = WORK / "mirror"
    path = source_dir / "llm" / "bench-1gib.gguf"
    created = make_file(path, size)
    sha256 = file_digests(str(path), ("sha256",))["sha256"]
    rows = []
    with MirrorServer(source_dir) as server:
        url = server.url + "/llm/bench-1gib.gguf"
        for _round in range(args.runs):
            # Each download starts with no dirty pages left by the one before (or by writing the test
            # file): otherwise the kernel's writeback of curl's unsynced gigabyte lands on the role's turn.
            os.sync()
            curl_s, curl_transfer_s, curl_fsync_s = curl_once(url, WORK / "curl")
            os.sync()
            role_s, role_transfer_s = role_once(url, WORK / "role", sha256, size)
            ping_s = ping_once()
            rows.append({"curl_s": round(curl_s, 3), "curl_transfer_s": round(curl_transfer_s, 3),
                         "curl_fsync_s": round(curl_fsync_s, 3), "role_s": round(role_s, 3),
                         "role_transfer_s": round(role_transfer_s, 3), "ansible_ping_s": round(ping_s, 3)})
            print("  round: curl %.2f s (transfer %.2f s, then fsync %.2f s), role %.2f s (module's download "
                  "to verified file %.2f s), ansible ping %.2f s"
                  % (curl_s, curl_transfer_s, curl_fsync_s, role_s, role_transfer_s, ping_s), flush=True)
    for name in ("curl", "role"):
        shutil.rmtree(str(WORK / name), ignore_errors=True)
    curl = spread([row["curl_s"] for row in rows])
    curl_transfer = spread([row["curl_transfer_s"] for row in rows])
    curl_fsync = spread([row["curl_fsync_s"] for row in rows])
    role = spread([row["role_s"] for row in rows])
    role_transfer = spread([row["role_transfer_s"] for row in rows])
    ping = spread([row["ansible_ping_s"] for row in rows])
    return {
        "file_bytes": size, "file_created_now": created, "sha256": sha256, "rounds": rows,
        "curl_s": curl, "curl_transfer_s": curl_transfer, "curl_fsync_s": curl_fsync,
        "role_s": role, "role_transfer_s": role_transfer, "ansible_ping_s": ping,
        "role_minus_ping_s": round(role["median"] - ping["median"], 3),
        "curl_mb_s": round(size / 1e6 / curl_transfer["median"], 1),
        "role_mb_s": round(size / 1e6 / role_transfer["median"], 1),
        # The goal compares the downloads: curl's time_total against the module's own seconds from the first
        # request to the verified, fsynced file in place. Ansible's fixed cost per task is reported beside it.
        "ratio": throughput_ratio(role_transfer["median"], curl_transfer["median"]),
        "ratio_goal": 0.8,
        "ratio_wall": throughput_ratio(role["median"], curl["median"]),
        "ratio_wall_without_ansible_startup": throughput_ratio(role["median"] - ping["median"], curl["median"]),
        "hash_mb_s": hash_rates(path, size, args.runs),
    }


def fan_out(hosts):
    import mirror as fleet_mirror  # tests/fleet/mirror.py: builds the synthetic files and the test registry

    state = fresh_dir(WORK / "fleet-mirror")
    registry = fleet_mirror.build(state)
    for name in ("lock.json", "lock.json.flock"):  # no digest pinned by an earlier run
        if (FLEET_STATE / name).exists():
            (FLEET_STATE / name).unlink()
    shutil.rmtree(str(FLEET_STATE / "reports"), ignore_errors=True)
    served = state / "mirror" / "mirror"
    files = sorted("/" + str(p.relative_to(served)) for p in served.rglob("*") if p.is_file())
    with MirrorServer(served) as server:
        fleet("up", "--hosts", str(hosts), "--state-dir", str(FLEET_STATE), "--first-address", str(FIRST_ADDRESS),
              "--mirror-url", server.url, "--registry", str(registry), "--python", sys.executable)
        try:
            site = [str(BIN / "ansible-playbook"), "-i", str(FLEET_STATE / "inventory.yml"),
                    str(ROOT / "playbooks" / "site.yml"),
                    "-e", "voiceagent_fetch_via_controller=true",
                    "-e", "voiceagent_controller_cache_dir=%s" % (WORK / "controller-cache"),
                    "-e", "voiceagent_report_dir=%s" % (FLEET_STATE / "reports"),
                    "-e", "voiceagent_lock_file=%s" % (FLEET_STATE / "lock.json")]
            shutil.rmtree(str(WORK / "controller-cache"), ignore_errors=True)
            wall = timed(site, ansible_env(ANSIBLE_FORKS=str(hosts), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"))[0]
            report_path = FLEET_STATE / "reports" / "voiceagent-report.json"
            report_bytes = report_path.stat().st_size
            report = json.loads(report_path.read_text())
        finally:
            fleet("down", "--state-dir", str(FLEET_STATE))
        requests = list(server.requests)
    shutil.rmtree(str(state), ignore_errors=True)
    shutil.rmtree(str(WORK / "controller-cache"), ignore_errors=True)
    counts = counts_per_file(requests, files)
    fetched = dict((path, n) for path, n in counts.items() if n)
    installs = sum(h.get("files_changed") or 0 for h in report["hosts"])
    return {
        "hosts": hosts, "forks": hosts, "site_yml_s": round(wall, 1),
        "host_status": sorted(set(h.get("status") for h in report["hosts"])),
        "files_installed_on_hosts": installs,
        "report_bytes": report_bytes, "report_bytes_per_host": round(report_bytes / float(hosts)),
        "unique_files_fetched": len(fetched),
        "get_requests": sum(fetched.values()),
        "max_gets_per_file": max(fetched.values()) if fetched else 0,
        "other_requests": len([r for r in requests if r[0] != "GET"]),
        "gets_per_file": fetched,
        "goal_gets_per_file": 1,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--no-fleet", action="store_true")
    parser.add_argument("--keep-file", action="store_true",
                        help="keep the test file in .fleet-bench-transfer/ for the next run (default: remove it)")
    args = parser.parse_args()
    try:
        payload = {"single_file": single_file(args)}
    finally:
        if not args.keep_file:
            shutil.rmtree(str(WORK / "mirror"), ignore_errors=True)
    one = payload["single_file"]
    print("transfer of %d MiB over loopback (median of %d): curl %.0f MB/s, role %.0f MB/s, ratio %.2f "
          "(goal >= 0.8: %s)" % (args.size_mib, args.runs, one["curl_mb_s"], one["role_mb_s"], one["ratio"],
                                 one["ratio"] >= 0.8))
    print("  wall seconds of the commands: curl %.2f, ansible %.2f (ratio %.2f); `ansible -m ping` alone %.2f "
          "(ratio without it %.2f)" % (one["curl_s"]["median"], one["role_s"]["median"], one["ratio_wall"],
                                       one["ansible_ping_s"]["median"], one["ratio_wall_without_ansible_startup"]))
    print("hash throughput (median): sha256 %.0f MB/s, sha256+md5 %.0f MB/s"
          % (one["hash_mb_s"]["sha256"]["median"], one["hash_mb_s"]["sha256+md5"]["median"]))
    if not args.no_fleet:
        payload["via_controller"] = fan_out(args.hosts)
        fan = payload["via_controller"]
        print("via_controller on %d hosts: %d files on the hosts from %d unique files, %d GET requests, "
              "at most %d per file (goal 1)" % (fan["hosts"], fan["files_installed_on_hosts"],
                                                fan["unique_files_fetched"], fan["get_requests"],
                                                fan["max_gets_per_file"]))
    path = write_result("transfer", payload, " ".join(["bench/transfer.py"] + sys.argv[1:]))
    print("  wrote %s" % path.relative_to(ROOT))


if __name__ == "__main__":
    main()
