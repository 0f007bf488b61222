"""Resident memory of a dbt invocation, sampled while it runs and attributed to the node running.

The bench's VmHWM figures are per process and say neither when the peak came nor whether the processes
peaked together. This samples, every ``interval`` seconds, the resident set of this process, of the JVM it
started, and of everything else below it (Spark's Python workers), and keeps each dbt node's maxima.
dbt runs one node at a time locally (``threads: 1``), so the node running at a sample is the one holding
that memory (or the one after a node whose memory was not given back).

The tree total sums each process' RSS, so pages the Python workers share with their fork parent count
twice: an upper bound of what the run held at that moment, sampled, so a spike shorter than the interval
can be missed (the per-process VmHWM figures catch those).
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


def process_tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    seen, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo += _children(pid)
    return seen


def _is_java(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "java"
    except OSError:
        return False


@dataclass
class Sample:
    """One moment: this process, the JVM(s) below it, and the whole tree, in MiB."""

    python: float
    jvm: float
    tree: float

    @classmethod
    def take(cls, root: int) -> Sample:
        python = jvm = tree = 0.0
        for pid in process_tree(root):
            rss = rss_mib(pid)
            tree += rss
            if pid == root:
                python = rss
            elif _is_java(pid):
                jvm += rss
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
    _node: str = BETWEEN_NODES
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def on_event(self, msg: Any) -> None:
        """dbt callback: follow which node runs (NodeStart / NodeFinished events)."""
        name = getattr(getattr(msg, "info", None), "name", "")
        if name == "NodeStart":
            uid = getattr(getattr(getattr(msg, "data", None), "node_info", None), "unique_id", "")
            self._node = uid or BETWEEN_NODES
            # a node shorter than the interval still gets one sample
            self.sample()
        elif name == "NodeFinished":
            self.sample()
            self._node = BETWEEN_NODES

    def sample(self) -> None:
        node = self._node
        peak = self.nodes.setdefault(node, NodePeak(node))
        peak.add(Sample.take(self.root))

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

    def summary(self, top: int = 5) -> dict[str, Any]:
        """The peaks and the nodes that reached them, plus the ``top`` nodes by tree total (JSON-ready)."""
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
