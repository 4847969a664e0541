#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: hardware_facts
short_description: Report the hardware that decides which voice-agent models a host can run
version_added: 0.1.0
description:
  - Gathers C(ansible_facts.voiceagent_hardware), the facts the tier selection of this collection
    reads. It reports CPU, memory, every GPU and a short benchmark.
  - CPU and memory are what the process can really use. CPU affinity and the cgroup (v1 or v2) CPU
    quota cap the usable cores. A cgroup memory limit caps the usable memory. Sizes are GiB as
    floats, never floored.
  - GPUs come from C(nvidia-smi) and C(rocm-smi), with C(/sys/class/drm) as the fallback for AMD.
    A missing, hanging or garbled tool never fails the task. It adds a sentence to C(warnings), and
    the other facts still come back.
  - The benchmark measures memory copy bandwidth on all usable cores at once, which bounds LLM token
    generation. It also gives a single-core compute score on upstream's scale (1.0 = old CPU,
    5.0 = high-end). It takes well under 2 seconds. The result is cached on the host for
    O(cache_ttl) seconds, so later runs answer from the cache.
  - The benchmark cache is the only thing this module writes, in check mode as well.
  - It also returns the turns M(voiceagent.models.turn_check) measured and stored on this host
    (RV(ansible_facts.voiceagent_hardware.turn_checks)), so that the tier selection can prefer a
    measurement to its prediction.
author:
  - voiceagent.models maintainers (@voiceagent)
requirements:
  - psutil on the managed host (without it, memory is read from C(/proc/meminfo) and a warning says so)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
  - voiceagent.models._attributes
  - voiceagent.models._attributes.facts
options:
  benchmark:
    description:
      - Measure memory bandwidth and the compute score when no fresh cached result exists.
      - When V(false), a fresh cached result is still returned. Otherwise the benchmark figures are
        V(null) and C(benchmark.skipped) is V(true).
    type: bool
    default: true
  cache_ttl:
    description:
      - How many seconds a cached benchmark result stays valid.
      - V(0) disables the cache. Nothing is read from it or written to it.
      - A cached result is also ignored when the CPU model, usable cores, memory size or the benchmark
        method changed since it was measured.
    type: int
    default: 604800
  cache_path:
    description:
      - File that keeps the benchmark result.
      - Defaults to C(/var/cache/voiceagent/hardware_benchmark.json) for root and
        C(~/.cache/voiceagent/hardware_benchmark.json) for other users.
    type: path
  command_timeout:
    description:
      - Seconds to wait for each GPU tool (C(nvidia-smi), C(rocm-smi)) before giving up with a warning.
      - A wedged GPU driver can make these tools hang forever.
    type: float
    default: 10
  turn_check_store:
    description:
      - The store M(voiceagent.models.turn_check) writes. Defaults to C(turn_check.json) beside the default
        benchmark cache, the turn check's own default.
    type: path
  turn_check_max_age:
    description: Seconds a stored turn is still returned. V(0) returns none.
    type: int
    default: 604800
notes:
  - Facts are returned under C(ansible_facts.voiceagent_hardware); see RV(ansible_facts.voiceagent_hardware).
  - The benchmark compute score depends on the host's zlib build; C(benchmark.zlib) records which one was measured.
seealso:
  - name: Tier selection filter
    description: Turns these facts into a model tier.
    link: https://github.com/voiceagent/models/blob/main/docs/selection.md
"""

EXAMPLES = r"""
- name: Gather the hardware facts (benchmark cached for a week)
  voiceagent.models.hardware_facts:

- name: Gather without measuring; use a cached benchmark if one is fresh
  voiceagent.models.hardware_facts:
    benchmark: false

- name: Re-measure now and keep the result in a custom place
  voiceagent.models.hardware_facts:
    cache_ttl: 0
    cache_path: /var/lib/voiceagent/benchmark.json

- name: Set the options once for every fact task in a block (the action group voiceagent.models.hardware)
  module_defaults:
    group/voiceagent.models.hardware:
      cache_path: /var/lib/voiceagent/benchmark.json
      command_timeout: 20
  block:
    - name: Gather the hardware facts with the defaults above
      voiceagent.models.hardware_facts:

- name: Show what the host can use
  ansible.builtin.debug:
    msg: >-
      {{ ansible_facts['voiceagent_hardware']['cpu']['usable_cores'] }} cores,
      {{ ansible_facts['voiceagent_hardware']['memory']['usable_gb'] }} GiB,
      largest GPU {{ ansible_facts['voiceagent_hardware']['gpu']['max_vram_gb'] }} GiB
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: complex
  contains:
    voiceagent_hardware:
      description: What the host can use for speech and language models.
      returned: always
      type: dict
      contains:
        cpu:
          description:
            - C(arch), C(model), C(logical_cores), C(physical_cores), C(affinity_cores),
              C(cgroup_cpu_quota) (cores, or null), C(usable_cores) (affinity, cpuset and quota applied)
              and C(flags), the LLM-relevant ISA flags the CPU reports.
          type: dict
          returned: always
          sample:
            arch: x86_64
            model: AMD EPYC
            logical_cores: 2
            physical_cores: 1
            affinity_cores: 2
            cgroup_cpu_quota: null
            usable_cores: 2
            flags: [avx, avx2, avx512_vnni, avx512f, avx_vnni, f16c, fma]
        memory:
          description:
            - C(total_gb), C(available_gb), C(cgroup_limit_gb) (null when unlimited) and C(usable_gb)
              (the smaller of total and limit), all GiB as floats.
            - C(source) says where total and available came from, V(psutil) or V(proc_meminfo) (psutil is
              missing; C(playbooks/site.yml) then installs it and gathers again).
          type: dict
          returned: always
          sample: {total_gb: 23.43, available_gb: 22.1, cgroup_limit_gb: null, usable_gb: 23.43, source: psutil}
        gpus:
          description:
            - One entry per GPU with C(index), C(vendor) (V(nvidia) or V(amd)), C(name), C(vram_total_mb),
              C(vram_free_mb) (null when unknown), C(uuid), C(driver), C(integrated) (an APU's GPU that
              shares system memory; never counted as a card), C(unified_memory), C(compute_capability),
              C(mig) and C(source) (the tool that reported it).
          type: list
          elements: dict
          returned: always
        gpu:
          description:
            - Summary over the cards that are not integrated. C(present), C(vendor), C(count) and
              C(max_vram_gb), the VRAM of the largest single card in GiB, never a sum across cards.
          type: dict
          returned: always
          sample: {present: true, vendor: nvidia, count: 1, max_vram_gb: 12.0}
        benchmark:
          description:
            - C(score) (single-core compute, 1.0 = old CPU, 5.0 = high-end), C(memory_bandwidth_gbps)
              (copy bandwidth on all usable cores, decimal GB/s counting reads and writes), C(seconds)
              the measurement took, C(cached), C(measured_at) (UTC, ISO 8601) and C(version) of the method.
            - C(process_bandwidth_gbps) is what one llama.cpp process can draw; on a host with several NUMA
              nodes the copy is measured again on each node (C(memory_bandwidth_per_node_gbps)) and this is
              the node with the most usable CPUs, with one node it is C(memory_bandwidth_gbps). C(numa_nodes)
              counts the nodes.
            - Also C(compute_ms), C(bandwidth_workers), C(bandwidth_buffer_mb), C(zlib) and C(cache_path).
            - When nothing was measured and nothing was cached, C(score) and C(memory_bandwidth_gbps) are
              null and C(skipped) is true.
          type: dict
          returned: always
          sample:
            score: 4.52
            memory_bandwidth_gbps: 38.1
            process_bandwidth_gbps: 38.1
            numa_nodes: 1
            memory_bandwidth_per_node_gbps: []
            seconds: 0.52
            cached: false
            measured_at: "2026-11-24T23:50:00Z"
            version: 2
        turn_checks:
          description:
            - The turns M(voiceagent.models.turn_check) stored on this host within O(turn_check_max_age), newest
              first. Each has C(tier), C(llm_file), C(llm_sha256), C(settings) (C(threads), C(context),
              C(max_tokens), C(gpu_layers), ...), C(measured) (C(stt_sec), C(llm_prefill_sec), C(llm_prompt_tokens),
              C(llm_tokens_per_sec), C(llm_sec), C(tts_sec), C(first_audio_sec), C(turn_sec)), C(measured_at),
              C(measured_epoch) and C(runtime).
          type: list
          elements: dict
          returned: always
        warnings:
          description: Plain sentences about whatever could not be read, for example C(nvidia-smi did not answer within 10 s).
          type: list
          elements: str
          returned: always
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.voiceagent.models.plugins.module_utils._facts.host_facts import DEFAULT_CACHE_TTL, gather
from ansible_collections.voiceagent.models.plugins.module_utils._runtime import turn_store


def main():
    module = AnsibleModule(
        argument_spec=dict(
            benchmark=dict(type="bool", default=True),
            cache_ttl=dict(type="int", default=DEFAULT_CACHE_TTL),
            cache_path=dict(type="path"),
            command_timeout=dict(type="float", default=10),
            turn_check_store=dict(type="path"),
            turn_check_max_age=dict(type="int", default=604800),
        ),
        supports_check_mode=True,
    )
    if module.params["cache_ttl"] < 0:
        module.fail_json(msg="cache_ttl must be 0 (no cache) or a positive number of seconds, got %d."
                         % module.params["cache_ttl"])
    if module.params["command_timeout"] <= 0:
        module.fail_json(msg="command_timeout must be a positive number of seconds, got %s."
                         % module.params["command_timeout"])
    facts = gather(
        run_benchmark=module.params["benchmark"],
        cache_ttl=module.params["cache_ttl"],
        cache_path=module.params["cache_path"],
        command_timeout=module.params["command_timeout"],
    )
    facts["turn_checks"] = turn_store.recent(module.params["turn_check_store"] or turn_store.default_store_path(),
                                             module.params["turn_check_max_age"], time.time())
    module.exit_json(changed=False, ansible_facts={"voiceagent_hardware": facts})


if __name__ == "__main__":
    main()
