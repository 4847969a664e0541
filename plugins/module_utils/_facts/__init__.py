# Host facts: read-only probes of a managed host's CPU, memory, cgroups, GPUs and a cached benchmark.
