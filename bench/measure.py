"""Small measuring helpers: percentiles, and a process's CPU time and memory from /proc."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (``fraction`` in 0..1)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Milliseconds: count, mean, min, p50, p95, p99, max."""
    ordered = sorted(seconds)
    if not ordered:
        return {"count": 0}
    return {
        "count": len(ordered),
        "mean": 1000 * sum(ordered) / len(ordered),
        "min": 1000 * ordered[0],
        "p50": 1000 * percentile(ordered, 0.50),
        "p95": 1000 * percentile(ordered, 0.95),
        "p99": 1000 * percentile(ordered, 0.99),
        "max": 1000 * ordered[-1],
    }


@dataclass(frozen=True)
class ProcessSample:
    """CPU seconds (user + system; all threads, and the main thread alone) and memory in kB."""

    cpu_seconds: float
    main_thread_cpu_seconds: float
    rss_kb: int
    peak_rss_kb: int


def _cpu_seconds(stat_path: str) -> float:
    stat = Path(stat_path).read_text()
    # The command name may contain spaces and parentheses: fields start after the last ")".
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def sample_process(pid: int) -> ProcessSample | None:
    """Read ``/proc/<pid>/stat``, its main thread's and ``status``; ``None`` if it is gone."""
    try:
        cpu = _cpu_seconds(f"/proc/{pid}/stat")
        main_thread = _cpu_seconds(f"/proc/{pid}/task/{pid}/stat")
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    memory = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            memory[name] = int(value.split()[0])
    return ProcessSample(cpu, main_thread, memory.get("VmRSS", 0), memory.get("VmHWM", 0))


def system_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (``/proc/stat``; idle and iowait excluded)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
