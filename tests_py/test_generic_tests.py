"""The project's own generic tests (dbt-utils / dbt-expectations shapes) proven on seeds with known rows."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.dbt


def test_each_generic_test_fails_exactly_the_rows_it_should(spark, dbt_target_path: Path) -> None:  # type: ignore[no-untyped-def]
    from dbt.cli.main import dbtRunner

    from lakehouse.engine.dbt_runner import project_dir

    root = str(project_dir())
    result = dbtRunner().invoke(
        [
            "build",
            "--select",
            "path:seeds/test_fixtures",
            "--vars",
            # the scope changes only the tests of a model with a run_stamp_column (fixture_stamped)
            "{test_fixtures: true, test_scope: run}",
            "--project-dir",
            root,
            "--profiles-dir",
            root,
            "--target-path",
            str(dbt_target_path / "fixtures"),
        ]
    )
    tests = [r for r in result.result.results if r.node.resource_type == "test"]
    assert len(tests) == 19
    observed = {r.node.name: r.failures for r in tests}
    expected = {r.node.name: r.node.config.meta["expected_failures"] for r in tests}
    assert observed == expected
    seeds = [r for r in result.result.results if r.node.resource_type == "seed"]
    assert len(seeds) == 5 and all(r.status == "success" for r in seeds)
