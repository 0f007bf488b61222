"""Resident memory of a dbt invocation, sampled while it runs and attributed to the node running.

The bench's VmHWM figures are per process and say neither when the peak came nor whether the processes
peaked together. This samples, every ``interval`` seconds, the resident set of this process, of the JVM it
started, and of everything else below it (Spark's Python workers), and keeps each dbt node's maxima.
A sample counts for every node running when it is taken (dbt runs several at once locally, 4 threads),
so a node's peak is what the run held while it ran: the node's own memory, or its neighbours', or memory
a node before it did not give back; the node holding a run's peak is among the nodes reported at it.

The tree total sums each process' RSS, so pages the Python workers share with their fork parent count
twice: an upper bound of what the run held at that moment, sampled, so a spike shorter than the interval
can be missed (the per-process VmHWM figures catch those). A process the JVM is starting, caught before
its `exec`, shares the JVM's memory and is left out (counted, it would add the JVM a second time).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20
BETWEEN_NODES = "(between nodes)"


def rss_mib(pid: int) -> float:
    """Resident set of one process in MiB (0 when it has gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_MIB
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def process_tree(root: int) -> list[tuple[int, int]]:
    """``root`` and every process below it, each with its parent (``root``'s parent given as 0)."""
    seen: set[int] = set()
    found, todo = [], [(root, 0)]
    while todo:
        pid, parent = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        found.append((pid, parent))
        todo += [(child, pid) for child in _children(pid)]
    return found


def _exe(pid: int) -> str:
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return ""


@dataclass
class Sample:
    """One moment: this process, the JVM(s) below it, and the whole tree, in MiB."""

    python: float
    jvm: float
    tree: float

    @classmethod
    def take(cls, root: int) -> Sample:
        tree = process_tree(root)
        exes = {pid: _exe(pid) for pid, _ in tree}
        return cls.of([(pid, parent, exes[pid], exes.get(parent, ""), rss_mib(pid)) for pid, parent in tree], root)

    @classmethod
    def of(cls, processes: list[tuple[int, int, str, str, float]], root: int) -> Sample:
        """From (pid, parent pid, program, parent's program, RSS MiB) rows.

        A child of the JVM still running the JVM's program is one it is starting (Hadoop's `chmod` and
        `stat`, Spark's Python workers) caught before its `exec`: it shares the JVM's memory (posix_spawn
        clones the address space), and counting its RSS would count the JVM twice. It is left out.
        """
        python = jvm = tree = 0.0
        for pid, _parent, exe, parent_exe, rss in processes:
            if pid == root:
                python = rss
            elif exe == "java" and parent_exe == "java":
                continue
            elif exe == "java":
                jvm += rss
            tree += rss
        return cls(python, jvm, tree)


@dataclass
class NodePeak:
    unique_id: str
    python: float = 0.0
    jvm: float = 0.0
    tree: float = 0.0
    samples: int = 0

    def add(self, sample: Sample) -> None:
        self.python = max(self.python, sample.python)
        self.jvm = max(self.jvm, sample.jvm)
        self.tree = max(self.tree, sample.tree)
        self.samples += 1


@dataclass
class MemoryWatch:
    """Use as a context manager around a dbt invocation, with ``on_event`` among its callbacks."""

    interval: float = 0.25
    root: int = field(default_factory=os.getpid)
    nodes: dict[str, NodePeak] = field(default_factory=dict)
    # the nodes running now, in the order they started
    _running: dict[str, None] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    # the sampler thread and dbt's callback both record samples: one at a time, so no maximum is lost
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def on_event(self, msg: Any) -> None:
        """dbt callback: follow which node runs (NodeStart / NodeFinished events)."""
        name = getattr(getattr(msg, "info", None), "name", "")
        if name not in ("NodeStart", "NodeFinished"):
            return
        uid = getattr(getattr(getattr(msg, "data", None), "node_info", None), "unique_id", "")
        if not uid:
            return
        if name == "NodeStart":
            with self._lock:
                self._running[uid] = None
            # a node shorter than the interval still gets one sample
            self.sample()
        else:
            self.sample()
            with self._lock:
                self._running.pop(uid, None)

    def sample(self) -> None:
        with self._lock:
            taken = Sample.take(self.root)
            for node in list(self._running) or [BETWEEN_NODES]:
                self.nodes.setdefault(node, NodePeak(node)).add(taken)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemoryWatch:
        self._stop.clear()
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="memwatch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def peak(self, measure: str = "tree") -> NodePeak:
        """The node during which ``measure`` (python, jvm or tree) was highest."""
        if not self.nodes:
            raise ValueError("no samples taken")
        return max(self.nodes.values(), key=lambda p: getattr(p, measure))

    def summary(self, top: int | None = None) -> dict[str, Any]:
        """The peaks and the nodes that reached them, plus every node (or the ``top`` ones) by tree total,
        highest first (JSON-ready)."""
        out: dict[str, Any] = {}
        for measure in ("python", "jvm", "tree"):
            p = self.peak(measure)
            out[f"{measure}_peak_mib"] = round(getattr(p, measure), 1)
            out[f"{measure}_peak_node"] = p.unique_id
        ranked = sorted(self.nodes.values(), key=lambda p: p.tree, reverse=True)[:top]
        out["top_nodes"] = [
            {"node": p.unique_id, "python_mib": round(p.python), "jvm_mib": round(p.jvm), "tree_mib": round(p.tree)}
            for p in ranked
        ]
        return out
