"""A process and its children as /proc shows them, for the benchmark drivers (cost_truth.py,
hostile.py): the same reads Runway's cost meter makes."""


def stat_fields(pid):
    """The fields of /proc/PID/stat after "(comm) " (state first), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_ticks(fields):
    """User plus system CPU, in clock ticks, of the process or thread whose stat_fields these are."""
    return int(fields[11]) + int(fields[12])


def children(pid):
    """The pids whose parent is PID (the kernel's list, as Runway's cost meter reads it)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []
