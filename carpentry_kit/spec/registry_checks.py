"""The workload registry's checks of a spec: workload, params, scenario and metrics (the only place they are checked)."""

from __future__ import annotations

from typing import Any

from carpentry_kit.errors import Loc, did_you_mean


def workload_problems(data: dict[str, Any]) -> list[tuple[Loc, str, str]]:
    """The registry's checks: ``task.workload`` is registered, ``task.params`` are its parameters, and
    ``protocol.scenario`` and every metric (name and kind) are ones it supports. Imports no torch."""
    from carpentry_kit.workloads import list_workloads

    task = data.get("task")
    if not isinstance(task, dict) or not isinstance(task.get("workload"), str):
        return []
    infos = list_workloads()
    name = task["workload"]
    if name not in infos:
        hint = did_you_mean(name, sorted(infos)) + " (`carpentry workloads` lists them)"
        return [(("task", "workload"), f"'{name}' is not a registered workload", hint)]
    info = infos[name]
    problems = _param_problems(name, task.get("params"))
    protocol = data.get("protocol") if isinstance(data.get("protocol"), dict) else {}
    scenario = protocol.get("scenario", "offline")
    if isinstance(scenario, str) and scenario not in info.scenarios:
        message = f"workload '{name}' has no {scenario} scenario"
        problems.append((("protocol", "scenario"), message, "use one of: " + ", ".join(info.scenarios)))
    return problems + _metric_problems(name, info, scenario, data.get("metrics"))


def _param_problems(name: str, params: Any) -> list[tuple[Loc, str, str]]:
    from carpentry_kit.workloads import validate_params

    if not isinstance(params, dict):
        return []
    problems = []
    for key, text in validate_params(name, params):
        message, _, hint = text.partition(" — ")
        problems.append((("task", "params", key), message, hint))
    return problems


def _metric_problems(name: str, info: Any, scenario: Any, metrics: Any) -> list[tuple[Loc, str, str]]:
    """Each metric is one the workload produces in this scenario, declared with the right kind."""
    from carpentry_kit.ontology import metric_kind, unproducible_metrics

    if not isinstance(metrics, list) or scenario not in info.scenarios:
        return []
    names = [metric.get("name") if isinstance(metric, dict) else None for metric in metrics]
    problems: list[tuple[Loc, str, str]] = [
        (("metrics", index, "name"), message, hint)
        for index, message, hint in unproducible_metrics(info, scenario, names)
    ]
    unproducible = {index for (_, index, _), _, _ in problems}
    for index, metric in enumerate(metrics):
        if index in unproducible or not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
            continue
        kind = metric_kind(metric["name"], info.quality_metrics)
        if metric.get("kind") in ("quality", "performance", "energy") and metric["kind"] != kind:
            article = "an" if kind == "energy" else "a"
            message = f"'{metric['name']}' is {article} {kind} metric, not {metric['kind']}"
            problems.append((("metrics", index, "kind"), message, f"write `kind: {kind}`"))
    return problems
