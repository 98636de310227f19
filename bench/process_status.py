"""A process's own figures from Linux's /proc/PID/status, for the measuring scripts."""
from __future__ import annotations

import resource


def proc_status(pid="self", field: str = "VmRSS") -> float:
    """A number of /proc/PID/status: the Vm* sizes in MiB (VmRSS now, VmHWM the peak), others
    (Threads) as they are. KeyError when the field is not there."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                value = int(line.split()[1])
                return value / 1024 if field.startswith("Vm") else value
    raise KeyError(field)


def rss_mib() -> float:
    """This process's resident memory now, MiB (where there is no /proc: its peak so far)."""
    try:
        return proc_status("self", "VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
