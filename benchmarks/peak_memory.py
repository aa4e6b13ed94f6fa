"""Resident memory of this process, for the benchmarks (run.py, panel_scale.py, memory_phases.py).

Linux's ``/proc/self/status`` gives the current resident set (``VmRSS``) and its peak
(``VmHWM``), which ``reset_peak`` sets back to the current value; elsewhere only the
peak is known, from ``getrusage``.
"""

from __future__ import annotations

import sys


def status_mb(field: str) -> float:
    """``field`` of ``/proc/self/status`` (``"VmRSS"``, ``"VmHWM"``) in MiB; Linux only."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Set the peak (``VmHWM``) back to the current resident memory; Linux only."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (``VmHWM``, or ``getrusage`` off Linux)."""
    try:
        return status_mb("VmHWM")
    except OSError:  # not Linux: getrusage's ru_maxrss is in kilobytes, bytes on macOS
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024
