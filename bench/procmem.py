"""procmem: a process's memory as the kernel reports it, for the benchmarks
(rss.py, e2e.py, web_load.py)."""


def vm_kb(pid):
    """VmRSS (resident now) and VmHWM (peak so far) of process pid, in kB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out
