"""The dbt half of the gate's verdict: every data test and unit test of the last `dbt build`, read from
dbt's own artifacts (`run_results.json` + `manifest.json` in the dbt target folder).

A test's severity lives on the test in dbt (`severity`, `warn_if`, `error_if`); dbt reports `pass`,
`warn`, `fail`, `error` or `skipped`. The gate maps those onto its own vocabulary:

| dbt status | gate severity | why |
|---|---|---|
| `pass` | the test's (success) | |
| `fail`, `error` | block, always | dbt skipped everything downstream: the build is incomplete |
| `skipped` | block, always, as one row `dbt.skipped` listing them | the test did not run on this data |
| `warn` | `dbt.warnings` of config/quality.yml (warn, block or off) | |

`dbt.results` (config/quality.yml) checks the artifacts themselves: present, readable, from a `dbt build`
(or `dbt test`) that finished after the latest load, so the gate never judges yesterday's build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from expectations.quality_config import CheckConfig
from expectations.results import CheckResult

RESULTS_KEY = "dbt.results"
WARNINGS_KEY = "dbt.warnings"
#: the verdict row listing the tests dbt skipped (their model was not built this time)
SKIPPED_KEY = "dbt.skipped"
DBT_KEYS: frozenset[str] = frozenset({RESULTS_KEY, WARNINGS_KEY})
HOME = "dbt"
#: dbt invocations whose results carry the project's tests
TESTING_COMMANDS = frozenset({"build", "test"})
TEST_TYPES = ("test", "unit_test")


@dataclass(frozen=True)
class DbtTest:
    """One test outcome of the last dbt invocation."""

    unique_id: str
    name: str
    resource_type: str  # test | unit_test
    status: str
    failures: int | None
    message: str | None
    relation: str  # schema.name of the model the test is about ("" when unknown)


@dataclass(frozen=True)
class DbtRun:
    """What dbt's artifacts say about the last invocation."""

    command: str
    generated_at: datetime
    selected: tuple[str, ...]
    tests: tuple[DbtTest, ...]


class DbtResultsUnreadable(Exception):
    """run_results.json / manifest.json missing or not what dbt writes."""


def read_dbt_run(target_dir: Path) -> DbtRun:
    """Parse `target_dir/run_results.json` and the test metadata of `target_dir/manifest.json`."""
    results = _load_json(target_dir / "run_results.json")
    manifest = _load_json(target_dir / "manifest.json")
    try:
        meta, args = results["metadata"], results.get("args", {})
        generated = datetime.fromisoformat(meta["generated_at"].replace("Z", "+00:00")).replace(tzinfo=None)
        nodes: dict[str, Any] = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
        tests = tuple(
            _test(r, nodes, manifest.get("parent_map", {}))
            for r in results["results"]
            if r["unique_id"].split(".", 1)[0] in TEST_TYPES
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DbtResultsUnreadable(f"{target_dir / 'run_results.json'} is not a dbt run result: {exc!r}") from exc
    selected = tuple(str(s) for s in (args.get("select") or ()))
    return DbtRun(command=str(args.get("which", "?")), generated_at=generated, selected=selected, tests=tests)


def _load_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DbtResultsUnreadable(f"{path} does not exist: no dbt build has run against this warehouse") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise DbtResultsUnreadable(f"{path} cannot be read: {exc}") from exc


def _test(result: dict[str, Any], nodes: dict[str, Any], parents: dict[str, list[str]]) -> DbtTest:
    uid = result["unique_id"]
    node = nodes.get(uid, {})
    return DbtTest(
        unique_id=uid, name=node.get("name") or uid.split(".")[2], resource_type=uid.split(".", 1)[0],
        status=str(result["status"]), failures=result.get("failures"),
        message=" ".join(str(result.get("message") or "").split()) or None,
        relation=_relation(_tested_model(node, parents), nodes),
    )


def _tested_model(node: dict[str, Any], parents: dict[str, list[str]]) -> str | None:
    """The model a test is about: the generic test's model, the unit test's model, or for a singular
    test the most downstream of the models it reads."""
    if node.get("attached_node"):
        return str(node["attached_node"])
    if node.get("resource_type") == "unit_test" and node.get("model"):
        return f"model.{node.get('package_name')}.{node['model']}"
    deps = [d for d in node.get("depends_on", {}).get("nodes", []) if d.startswith(("model.", "seed."))]
    upstream = {a for d in deps for a in _ancestors(d, parents)}
    downstream = [d for d in deps if d not in upstream]
    return downstream[-1] if downstream else None


def _ancestors(uid: str, parents: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(parents.get(uid, []))
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(parents.get(p, []))
    return seen


def _relation(uid: str | None, nodes: dict[str, Any]) -> str:
    node = nodes.get(uid or "", {})
    if not node:
        return ""
    return f"{node.get('schema')}.{node.get('alias') or node.get('name')}"


# ---------------------------------------------------------------- into the verdict
def dbt_verdicts(target_dir: Path | None, latest_load: datetime | None,
                 config: dict[str, CheckConfig]) -> list[CheckResult]:
    """`dbt.results` plus one CheckResult per dbt test (home `dbt`), severities as in the module docstring."""
    results_cfg, warn_cfg = config[RESULTS_KEY], config[WARNINGS_KEY]
    out: list[CheckResult] = []
    run: DbtRun | None = None
    problem: str | None
    if target_dir is None:
        problem = "the gate was not given the dbt target folder"
    else:
        try:
            run = read_dbt_run(target_dir)
            problem = _stale(run, latest_load)
        except DbtResultsUnreadable as exc:
            problem = str(exc)
    if results_cfg.severity != "off":
        out.append(CheckResult(
            name=RESULTS_KEY, suite="dbt", table=str(target_dir or ""), severity=results_cfg.severity,
            success=problem is None, observed_value=_observed(run, problem), violations=(problem,) if problem else (),
            home=HOME))
    if run is None:
        return out
    skipped = [t for t in run.tests if t.status == "skipped"]
    for t in run.tests:
        severity = warn_cfg.severity if t.status == "warn" else "block"
        if severity == "off" or t.status == "skipped":
            continue
        out.append(CheckResult(
            name=f"dbt.{t.name}", suite="dbt", table=t.relation, severity=severity, success=t.status == "pass",
            observed_value=f"{t.status} ({t.failures})" if t.failures else t.status,
            violations=() if t.status == "pass" else (_violation(t),), home=HOME))
    if skipped:  # one verdict for them: a failed test upstream already names the cause
        out.append(CheckResult(
            name=SKIPPED_KEY, suite="dbt", table="", severity="block", success=False,
            observed_value=f"{len(skipped)} skipped", home=HOME,
            violations=tuple(f"{t.name}{' on ' + t.relation if t.relation else ''}" for t in skipped)))
    return out


def _stale(run: DbtRun, latest_load: datetime | None) -> str | None:
    if run.command not in TESTING_COMMANDS:
        return (f"the last dbt invocation was `dbt {run.command}`, not a build: its results hold no tests; "
                "run the dbt build step again")
    if not run.tests:
        return "the last dbt build ran no tests"
    if latest_load is not None and run.generated_at < latest_load:
        return (f"the last dbt build finished at {run.generated_at:%Y-%m-%d %H:%M:%S} UTC, before the latest load "
                f"at {latest_load:%Y-%m-%d %H:%M:%S} UTC: its tests did not see the data now loaded; run the dbt "
                "build step again")
    return None


def _observed(run: DbtRun | None, problem: str | None) -> str:
    if run is None:
        return "missing"
    counts: dict[str, int] = {}
    for t in run.tests:
        counts[t.status] = counts.get(t.status, 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no tests"
    if run.selected:
        text += f" (dbt {run.command} --select {' '.join(run.selected)})"
    return "stale: " + text if problem else text


def _violation(t: DbtTest) -> str:
    on = f" on {t.relation}" if t.relation else ""
    kind = "unit test" if t.resource_type == "unit_test" else "test"
    rows = f": {t.failures} failing row(s)" if t.failures else ""
    detail = f" ({t.message})" if t.message and t.status == "error" else ""
    return f"dbt {kind}{on} returned {t.status}{rows}{detail}"
