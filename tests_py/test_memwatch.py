"""The bench's memory watch: samples the process tree and gives each dbt node its own peak."""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace

from lakehouse.bench.memwatch import BETWEEN_NODES, MemoryWatch, Sample, process_tree
from lakehouse.bench.pipeline import memory_lines


def _event(name: str, uid: str = "") -> SimpleNamespace:
    """The shape of dbt's EventMsg the watch reads: info.name and data.node_info.unique_id."""
    node_info = SimpleNamespace(unique_id=uid)
    return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(node_info=node_info))


def test_each_node_keeps_the_peak_reached_while_it_ran() -> None:
    hog = "model.shop.hog"
    child = subprocess.Popen(
        [sys.executable, "-c", "b = bytearray(120 * 2**20); import time; time.sleep(30)"], stdout=subprocess.DEVNULL
    )
    try:
        with MemoryWatch(interval=0.05) as watch:
            watch.on_event(_event("NodeStart", "model.shop.small"))
            time.sleep(0.2)
            watch.on_event(_event("NodeFinished", "model.shop.small"))
            watch.on_event(_event("NodeStart", hog))
            block = bytearray(300 * 2**20)  # touched, so resident
            time.sleep(0.3)
            watch.on_event(_event("NodeFinished", hog))
            del block
            watch.on_event(_event("NodeStart", "model.shop.after"))
            time.sleep(0.2)
            watch.on_event(_event("NodeFinished", "model.shop.after"))
            # the child is in the tree while it lives
            assert child.pid in {pid for pid, _ in process_tree(watch.root)}
            with_child = Sample.take(watch.root)
    finally:
        child.kill()
        child.wait()

    small, big = watch.nodes["model.shop.small"], watch.nodes[hog]
    assert big.python - small.python > 250  # the 300 MiB block, seen while its node ran
    assert watch.peak("python").unique_id == hog
    assert all(p.samples >= 2 for p in watch.nodes.values())  # a sample at each start and finish
    assert BETWEEN_NODES in watch.nodes  # before the first node and after the last
    # the tree counts the child (120 MiB resident) on top of this process
    assert with_child.tree - with_child.python > 100
    summary = watch.summary(top=2)
    assert summary["python_peak_node"] == hog
    assert summary["top_nodes"][0]["node"] == hog
    assert len(summary["top_nodes"]) == 2


def test_overlapping_nodes_each_see_the_memory_held_while_they_ran() -> None:
    """dbt threads: a sample counts for every node running; the first node to finish does not end the
    others' attribution."""
    with MemoryWatch(interval=0.05) as watch:
        watch.on_event(_event("NodeStart", "model.shop.long"))
        watch.on_event(_event("NodeStart", "model.shop.short"))
        time.sleep(0.15)
        watch.on_event(_event("NodeFinished", "model.shop.short"))
        block = bytearray(300 * 2**20)  # touched, so resident: only `long` still runs
        time.sleep(0.3)
        watch.on_event(_event("NodeFinished", "model.shop.long"))
        del block
        watch.on_event(_event("NodeStart", "model.shop.after"))
        time.sleep(0.15)
        watch.on_event(_event("NodeFinished", "model.shop.after"))
    long, short, after = (watch.nodes[f"model.shop.{n}"] for n in ("long", "short", "after"))
    assert long.python - short.python > 250 and long.python - after.python > 250
    assert long.samples > short.samples >= 2
    assert watch.peak("python").unique_id == "model.shop.long"


def test_events_without_a_node_are_ignored() -> None:
    watch = MemoryWatch()
    watch.on_event(SimpleNamespace(info=SimpleNamespace(name="MainReportVersion")))
    watch.on_event(object())  # any other message shape
    assert watch.nodes == {}


def test_bench_prints_where_each_build_peaked() -> None:
    memory = {
        "python_peak_mib": 3072.0,
        "python_peak_node": "model.ecommerce_lakehouse.ml_conversion_training_runs",
        "jvm_peak_mib": 5120.0,
        "jvm_peak_node": "model.ecommerce_lakehouse.ml_user_item_features",
        "tree_peak_mib": 7168.0,
        "tree_peak_node": "model.ecommerce_lakehouse.ml_conversion_training_runs",
    }
    lines = memory_lines({"events_generated": 1_000_000, "full_memory": memory})
    assert lines == [
        "1,000,000 events, full build: run 7.0 GiB during ml_conversion_training_runs; "
        "Python 3.0 GiB during ml_conversion_training_runs; JVM 5.0 GiB during ml_user_item_features"
    ]


def test_a_process_the_jvm_is_starting_does_not_count_the_jvm_twice() -> None:
    rows = [
        (10, 0, "python3.11", "", 300.0),  # the dbt process
        (11, 10, "java", "python3.11", 5000.0),  # its JVM
        (12, 11, "java", "java", 5000.0),  # a child the JVM spawns, before its exec: the JVM's own memory
        (13, 11, "python3.11", "java", 40.0),  # Spark's Python worker daemon
        (14, 13, "python3.11", "python3.11", 200.0),  # a worker it forked
    ]
    sample = Sample.of(rows, root=10)
    assert (sample.python, sample.jvm, sample.tree) == (300.0, 5000.0, 5540.0)
