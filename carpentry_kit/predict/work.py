"""The work of one timed unit of a spec: flop and bytes from the workload, framework calls counted.

The workload is built and set up as a run would (untimed), then one unit — an offline step, a
single-stream query, a time-to-quality epoch — runs once under a counter of the PyTorch operations it
dispatches. Flop and bytes are the workload's own ``work_per_sample`` (``work_per_query`` for a query when
it has one) times the samples; none of this depends on the hardware, so it is done on this machine's CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.errors import UsageError
from carpentry_kit.predict.roofline import Work

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Spec


def measure_work(spec: Spec, spec_path: str | None = None) -> tuple[Work, Any]:
    """The ``Work`` of one timed unit of ``spec`` and the set-up workload (for ``max_steps`` and params)."""
    import torch

    from carpentry_kit.workloads import get_workload

    workload_class = get_workload(spec.task.workload)
    datasets = _datasets(spec, spec_path)
    previous = torch.get_num_threads()
    torch.set_num_threads(spec.infrastructure.threads)
    try:
        workload = workload_class(dict(spec.task.params), datasets, "cpu", spec.task.seed)
        workload.setup()
        single = spec.protocol.scenario == "single-stream"
        unit = _one_query(workload) if single else workload.step
        samples, calls = _count_calls(unit)
    except ValueError as error:  # WorkloadError: params or datasets that do not fit
        raise UsageError(f"{spec_path or '<spec>'}: {error}") from None
    finally:
        torch.set_num_threads(previous)
    per = (
        workload.work_per_query()
        if single and hasattr(workload, "work_per_query")
        else workload.work_per_sample()
    )
    if "flop" not in per or "bytes" not in per:
        raise UsageError(
            f"workload '{spec.task.workload}' does not report flop and bytes in work_per_sample()"
            " — the roofline model needs both"
        )
    dtype = str(spec.task.params.get("dtype", workload.params.get("dtype", "float32")))
    return Work(int(samples), per["flop"] * samples, per["bytes"] * samples, calls, dtype), workload


def _datasets(spec: Spec, spec_path: str | None) -> dict[str, Any]:
    from carpentry_kit.data.datasets import DatasetError, load_dataset

    spec_dir = Path(spec_path).parent if spec_path else Path.cwd()
    loaded = {}
    for dataset in spec.datasets:
        try:
            loaded[dataset.name] = load_dataset(dataset, spec_dir, seed=spec.task.seed)
        except DatasetError as error:
            raise UsageError(
                f"{spec_path or '<spec>'}: datasets.{dataset.name}.{error.key}: {error}"
            ) from None
    return loaded


def _one_query(workload: Any) -> Any:
    def query() -> int:
        workload.query(0)
        return 1

    return query


def _count_calls(unit: Any) -> tuple[int, int]:
    """Run ``unit()`` once, counting the PyTorch operations it dispatches; (its return value, the count)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Counter(TorchDispatchMode):
        calls = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Counter.calls += 1
            return func(*args, **(kwargs or {}))

    with Counter():
        result = unit()
    return result, Counter.calls
