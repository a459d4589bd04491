"""A worker process's own peak resident memory (every benchmark worker
that reports one).

`wait4`'s ru_maxrss in the parent is no good for a small child: the high-
water mark it reports includes the parent's resident memory at the moment
the child was spawned (the address space the child ran on until its exec),
so under a 60 MB benchmark driver no child reads below ~60 MB (`true` read
27 MB, and 428 MB under a 400 MB parent). VmHWM in /proc/self/status is the
high-water mark of this process's own address space, the one exec made.
"""

from __future__ import annotations

import resource


def peak_rss_bytes() -> int:
    """VmHWM where /proc has it, else ru_maxrss (which may hold the floor above)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
