"""What the side-by-side benchmark scripts share: whether the machine was idle during a run, and
where the datasets are."""
import os
import resource
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


class MachineLoad:
    """CPU seconds that other processes (and the hypervisor, as steal) took while a run went on,
    from /proc/stat minus this process's and its waited-for children's own CPU time (Linux)."""

    def __enter__(self):
        self.start = self._sample()
        self.report = {}
        return self

    def __exit__(self, *exc):
        end = self._sample()
        if self.start and end:
            busy, steal, own, wall = (b - a for a, b in zip(self.start, end))
            self.report = {"other_cpu_seconds": round(max(busy - own, 0.0), 2), "steal_seconds": round(steal, 2),
                           "own_cpu_seconds": round(own, 2), "wall_seconds": round(wall, 2)}

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as f:
                t = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        hz = os.sysconf("SC_CLK_TCK")
        busy = (t[0] + t[1] + t[2] + t[5] + t[6]) / hz  # user nice system irq softirq
        own = sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                    resource.getrusage(resource.RUSAGE_CHILDREN)))
        return busy, (t[7] if len(t) > 7 else 0) / hz, own, time.perf_counter()


def default_data():
    """$STARLING_DATA, else the shared datasets beside the repository."""
    if os.environ.get("STARLING_DATA"):
        return os.environ["STARLING_DATA"]
    for d in ("/work/shared/datasets", os.path.join(REPO, "..", "shared", "datasets")):
        if os.path.isdir(d):
            return d
    return "../shared/datasets"
