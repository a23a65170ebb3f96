"""What the heartbeat and selftest report about the machine: memory, temperature, clock sync."""

from __future__ import annotations

import ctypes
import ctypes.util
import resource
from enum import StrEnum
from pathlib import Path

THERMAL = Path("/sys/class/thermal")
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
_TIME_ERROR = 5  # adjtimex(2): clock not synchronised


class ClockState(StrEnum):
    SYNCED = "synced"
    UNSYNCED = "unsynced"
    UNKNOWN = "unknown"


def rss_kb() -> int:
    """Resident memory of this process now (kB), from /proc; peak RSS where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def cpu_temp_mc(thermal: Path = THERMAL) -> int | None:
    """SoC temperature in milli-degrees Celsius (the first thermal zone), None where there is none."""
    for zone in sorted(thermal.glob("thermal_zone*")):
        try:
            return int((zone / "temp").read_text().strip())
        except (OSError, ValueError):
            continue
    return None


def clock_state(flag: Path = TIMESYNC_FLAG) -> ClockState:
    """systemd-timesyncd's flag file, else the kernel's own view (adjtimex), else unknown."""
    if flag.exists():
        return ClockState.SYNCED
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = ctypes.create_string_buffer(512)  # struct timex, modes = 0: read only
        rc = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return ClockState.UNKNOWN
    if rc < 0:
        return ClockState.UNKNOWN
    return ClockState.UNSYNCED if rc == _TIME_ERROR else ClockState.SYNCED
