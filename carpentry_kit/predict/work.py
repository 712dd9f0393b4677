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
        samples, calls = count_calls(unit)
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
    loop = _loop(workload, single)
    work = Work(int(samples), per["flop"] * samples, per["bytes"] * samples, calls, dtype, loop)
    return work, workload


def _loop(workload: Any, single: bool) -> str:
    """A network (it has a ``model``) runs many small operations from Python: its queries and inference
    batches cost what a calibrated query's calls cost, its training what a training step's calls cost."""
    if not hasattr(workload, "model"):
        return ""
    return "query" if single or not workload.model.training else "training"


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


SKIP_FLOP = 1e8  # a matrix product larger than this is counted, not computed (its result is left empty)


def count_calls(unit: Any) -> tuple[Any, int]:
    """Run ``unit()`` once, counting the PyTorch operations it dispatches; (its return value, the count).

    Large matrix products are counted but not computed (their outputs are allocated, not filled), so
    counting the calls of a big step costs little: the count does not depend on the values."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    aten = torch.ops.aten
    products = {aten.mm.default, aten.mm.out, aten.addmm.default, aten.addmm.out, aten.bmm.default}

    class Counter(TorchDispatchMode):
        calls = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            Counter.calls += 1
            if func in products and _product_flop(func, args) > SKIP_FLOP:
                return _empty_result(func, args, kwargs)
            return func(*args, **kwargs)

    with Counter():
        result = unit()
    return result, Counter.calls


def _product_flop(func: Any, args: tuple) -> float:
    """2 m n k of a (batched) matrix product from its operands' shapes."""
    left, right = (args[1], args[2]) if "addmm" in str(func) else (args[0], args[1])
    batch = left.shape[0] if left.dim() == 3 else 1
    return 2.0 * batch * left.shape[-2] * left.shape[-1] * right.shape[-1]


def _empty_result(func: Any, args: tuple, kwargs: dict) -> Any:
    """The ``out`` tensor as given, or an empty tensor of the product's shape (shapes from the meta device)."""
    import torch

    if "out" in kwargs:
        return kwargs["out"]
    on_meta = [arg.to("meta") if isinstance(arg, torch.Tensor) else arg for arg in args]
    shape = func(*on_meta, **kwargs)
    like = next(arg for arg in args if isinstance(arg, torch.Tensor))
    return torch.empty(shape.shape, dtype=shape.dtype, device=like.device)
