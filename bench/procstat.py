"""CPU time and peak memory of a process from /proc (Linux; no psutil)."""

import os
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcSample:
    """User + system CPU seconds so far, and peak resident set size (VmHWM) in bytes."""

    cpu_s: float
    peak_rss_bytes: int


def sample(pid: int) -> ProcSample:
    """The process's CPU seconds (utime + stime, /proc/<pid>/stat) and VmHWM (/proc/<pid>/status)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    peak = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
                break
    return ProcSample((utime + stime) / CLOCK_TICKS, peak)
