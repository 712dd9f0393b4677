"""Rate a spec against the six-category rubric of the MLCommons Science benchmark collection.

Each category scores 0–5, one point per criterion, judged only from what the spec states. Every point
comes with its reason and every missing point with the edit that earns it, so a learner can raise the
score by following the advice::

    rating = rate_spec(load_spec("my.yaml"))
    print(rating)            # a table, then the advice
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from carpentry_kit.spec.model import Spec

MAX_SCORE = 5
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Criterion:
    """One rubric point: ``met`` with the reason, or not met with the advice that earns it."""

    met: bool
    reason: str
    advice: str


@dataclass
class CategoryRating:
    """The score of one rubric category, with a reason for each point and advice for each missing one."""

    key: str  # the MLCommons `ratings` key: software, specification, dataset, ...
    name: str
    score: int
    reasons: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)


@dataclass
class Rating:
    """The six category ratings of one spec."""

    benchmark: str
    categories: list[CategoryRating]

    @property
    def total(self) -> int:
        return sum(category.score for category in self.categories)

    @property
    def maximum(self) -> int:
        return MAX_SCORE * len(self.categories)

    def category(self, key: str) -> CategoryRating:
        return next(category for category in self.categories if category.key == key)

    def to_dict(self) -> dict:
        return {
            "benchmark": self.benchmark,
            "total": self.total,
            "maximum": self.maximum,
            "categories": [vars(category) | {"maximum": MAX_SCORE} for category in self.categories],
        }

    def __str__(self) -> str:
        width = max(len(category.name) for category in self.categories)
        lines = [f"Rating of '{self.benchmark}'", ""]
        for category in self.categories:
            bar = "#" * category.score + "." * (MAX_SCORE - category.score)
            lines.append(f"  {category.name:<{width}}  {bar}  {category.score}/{MAX_SCORE}")
        lines += [f"  {'total':<{width}}  {'':5}  {self.total}/{self.maximum}", ""]
        for category in self.categories:
            lines.append(f"{category.name} ({category.score}/{MAX_SCORE})")
            lines += [f"  + {reason}" for reason in category.reasons]
            lines += [f"  - {advice}" for advice in category.advice]
        return "\n".join(lines)


def _known(value: str | None) -> bool:
    return bool(value) and value != UNKNOWN


def _criterion(met: bool, reason: str, advice: str) -> Criterion:
    return Criterion(bool(met), reason, advice)


# --------------------------------------------------------------------------------- C1 software environment
def _software(spec: Spec, context: _Context) -> list[Criterion]:
    bench, infra = spec.benchmark, spec.infrastructure
    packages = infra.software.packages
    return [
        _criterion(
            _known(bench.url),
            f"code is available at {bench.url}",
            "add `benchmark.url:` with the repository that holds the code",
        ),
        _criterion(
            context.runnable,
            f"workload '{spec.task.workload}' is registered: `carpentry run` runs it unmodified",
            f"register workload '{spec.task.workload}' (`carpentry workloads` lists those available)",
        ),
        _criterion(
            bool(packages),
            "software needs are pinned: " + ", ".join(f"{k}{v}" for k, v in packages.items()),
            "add `infrastructure.software.packages:` e.g. {torch: '>=2.1'} so others can set up the same stack",
        ),
        _criterion(
            _known(bench.license),
            f"licence is {bench.license}",
            "add `benchmark.license:` with an SPDX identifier (e.g. BSD-3-Clause) so others may reuse it",
        ),
        _criterion(
            infra.container is not None,
            f"containerised: {infra.container}",
            "add `infrastructure.container:` with an image (e.g. docker.io/org/image:tag) that runs it",
        ),
    ]


# ------------------------------------------------------------------- C2 problem specification and constraints
def _specification(spec: Spec, context: _Context) -> list[Criterion]:
    stated_constraints = [name for name in spec.constraints.model_fields_set]
    described = [dataset for dataset in spec.datasets if dataset.description]
    stated_protocol = {"scenario", "repeats"} <= spec.protocol.model_fields_set
    return [
        _criterion(
            bool(stated_constraints),
            "system constraints given: " + ", ".join(sorted(stated_constraints)),
            "add `constraints:` e.g. time_budget_s or peak_memory_mib: limits a valid run must respect",
        ),
        _criterion(
            bool(spec.benchmark.summary),
            "task stated in benchmark.summary",
            "add `benchmark.summary:` one sentence saying what is measured",
        ),
        _criterion(
            bool(spec.datasets) and len(described) == len(spec.datasets),
            "every dataset's format is described",
            "describe each dataset's format in `datasets[i].description` (what one sample is, how many)"
            if spec.datasets
            else "declare the input data in `datasets:` with a `description:` of its format",
        ),
        _criterion(
            bool(spec.task.params),
            "inputs specified in task.params: " + ", ".join(spec.task.params),
            "list the workload's inputs in `task.params:` (sizes, batch, epochs) instead of relying on defaults",
        ),
        _criterion(
            stated_protocol,
            f"outputs fixed by the protocol: {spec.protocol.scenario}, {spec.protocol.repeats} repeats",
            "state `protocol.scenario:` and `protocol.repeats:` so everyone reports the same numbers",
        ),
    ]


# ------------------------------------------------------------------------------------ C3 FAIR dataset
def _dataset(spec: Spec, context: _Context) -> list[Criterion]:
    datasets = spec.datasets
    if not datasets:
        advice = "declare the data in `datasets:` (name, source, licence, description, splits)"
        return [_criterion(False, "", advice)] + [_criterion(False, "", "")] * (MAX_SCORE - 1)
    names = ", ".join(dataset.name for dataset in datasets)
    return [
        _criterion(
            all(dataset.description for dataset in datasets),
            f"findable: {names} described",
            "findable: add `description:` to each dataset saying what it is and where it comes from",
        ),
        _criterion(
            all(dataset.source.startswith(("builtin:", "http://", "https://")) for dataset in datasets),
            "accessible: every source is built in or a public URL",
            "accessible: give each dataset a public `source:` URL (with its sha256), not a local path",
        ),
        _criterion(
            all(dataset.croissant for dataset in datasets),
            "interoperable: Croissant metadata linked",
            "interoperable: add `croissant:` with the URL of the dataset's Croissant (JSON-LD) metadata",
        ),
        _criterion(
            all(_known(dataset.license) for dataset in datasets),
            "reusable: licence given for every dataset",
            "reusable: add `license:` to each dataset (e.g. CC-BY-4.0)",
        ),
        _criterion(
            all("splits" in dataset.model_fields_set and len(dataset.splits) >= 2 for dataset in datasets),
            "train/test splits stated",
            "state `splits:` for each dataset, e.g. {train: 0.8, test: 0.2}, so everyone evaluates alike",
        ),
    ]


# --------------------------------------------------------------------------------------- C4 metrics
def _metrics(spec: Spec, context: _Context) -> list[Criterion]:
    from carpentry_kit.ontology import PERFORMANCE_UNITS

    kinds = {metric.kind: metric for metric in reversed(spec.metrics)}
    quality_names = " or ".join(context.quality_metrics) or "test_accuracy"
    performance_names = " or ".join(PERFORMANCE_UNITS[spec.protocol.scenario])
    target = spec.quality_target()
    undescribed = [metric.name for metric in spec.metrics if not metric.description]
    return [
        _criterion(
            "quality" in kinds,
            f"quality metric: {kinds['quality'].name}" if "quality" in kinds else "",
            f"add a metric of kind quality ({quality_names}): speed without quality means little",
        ),
        _criterion(
            target is not None,
            f"'solved' is defined: {target.name} target {target.target:g}" if target else "",
            "add `target:` to the quality metric: the value that counts as solved",
        ),
        _criterion(
            not undescribed,
            "every metric is described in words",
            "add `description:` to metric(s) " + ", ".join(undescribed) + ": how it is computed",
        ),
        _criterion(
            "performance" in kinds,
            f"time is measured: {kinds['performance'].name}" if "performance" in kinds else "",
            f"add a metric of kind performance ({performance_names} in the {spec.protocol.scenario} scenario)",
        ),
        _criterion(
            "energy" in kinds,
            f"energy is measured: {kinds['energy'].name}" if "energy" in kinds else "",
            "add an energy metric (e.g. energy_j, kind: energy, unit: J): the cost of the result",
        ),
    ]


# ------------------------------------------------------------------------------ C5 reference solution
def _reference(spec: Spec, context: _Context) -> list[Criterion]:
    references = spec.results.reference
    referenced = {reference.metric for reference in references}
    missing = [metric.name for metric in spec.metrics if metric.name not in referenced]
    hardware = {"cpu_cores", "memory_gb"} <= spec.infrastructure.model_fields_set
    example = spec.metrics[0].name
    return [
        _criterion(
            context.runnable,
            f"reference implementation available: workload '{spec.task.workload}'",
            f"make workload '{spec.task.workload}' available in the registry so the baseline can run",
        ),
        _criterion(
            bool(references),
            f"reference results recorded for {', '.join(sorted(referenced))}",
            f"add `results.reference:` with a value you measured, e.g. - {{metric: {example}, value: ..., "
            "system: my-laptop}",
        ),
        _criterion(
            bool(references) and all(_known(reference.system) for reference in references),
            "reference results name the system they came from",
            "give each reference result a `system:` saying which machine produced it" if references else "",
        ),
        _criterion(
            not missing,
            "every metric has a reference value",
            "add reference values for " + ", ".join(missing),
        ),
        _criterion(
            hardware,
            f"hardware requirements listed: {spec.infrastructure.cpu_cores} CPU core(s), "
            f"{spec.infrastructure.memory_gb:g} GiB",
            "state `infrastructure.cpu_cores:` and `infrastructure.memory_gb:` that the baseline needs",
        ),
    ]


# ------------------------------------------------------------------------------------ C6 documentation
def _documentation(spec: Spec, context: _Context) -> list[Criterion]:
    bench = spec.benchmark
    words = len(bench.description.split())
    return [
        _criterion(
            bool(bench.summary),
            "the task is summarised",
            "add `benchmark.summary:` one sentence on what is measured",
        ),
        _criterion(
            words >= 30,
            f"background and motivation in the description ({words} words)",
            f"expand `benchmark.description:` ({words} words) to at least 30: background, motivation, "
            "evaluation criteria",
        ),
        _criterion(
            len(bench.keywords) >= 2,
            "keywords: " + ", ".join(bench.keywords),
            "add `benchmark.keywords:` (at least two) so the benchmark can be found",
        ),
        _criterion(
            context.readme is not None or bool(bench.cite),
            f"further documentation: {context.readme}" if context.readme else "citation given (cite)",
            "add a README.md next to the spec, or `benchmark.cite:` with a BibTeX entry",
        ),
        _criterion(
            _known(bench.paper),
            f"academic paper: {bench.paper}",
            "add `benchmark.paper:` with the DOI or URL of a paper describing the benchmark",
        ),
    ]


@dataclass(frozen=True)
class _Context:
    """Facts about the spec's surroundings: is its workload registered, is there a README beside it."""

    runnable: bool
    readme: Path | None
    quality_metrics: tuple[str, ...] = ()  # what the workload's evaluate() reports


def _context(spec: Spec, spec_path: str | Path | None) -> _Context:
    from carpentry_kit.workloads import list_workloads

    readme = None
    if spec_path is not None:
        folder = Path(spec_path).resolve().parent
        readme = next((path for path in (folder / "README.md", folder / "README") if path.is_file()), None)
    info = list_workloads().get(spec.task.workload)
    quality = tuple(info.quality_metrics) if info else ()
    return _Context(runnable=info is not None, readme=readme, quality_metrics=quality)


CATEGORIES: list[tuple[str, str, Callable[[Spec, _Context], list[Criterion]]]] = [
    ("software", "Software environment", _software),
    ("specification", "Problem specification and constraints", _specification),
    ("dataset", "FAIR dataset", _dataset),
    ("metrics", "Metrics", _metrics),
    ("reference_solution", "Reference solution", _reference),
    ("documentation", "Documentation", _documentation),
]


def rate_spec(spec: Spec, spec_path: str | Path | None = None) -> Rating:
    """Score ``spec`` 0–5 in each of the six rubric categories, with reasons and advice.

    ``spec_path`` lets the rating look for a README next to the spec.
    """
    context = _context(spec, spec_path)
    categories = []
    for key, name, judge in CATEGORIES:
        criteria = judge(spec, context)
        categories.append(
            CategoryRating(
                key=key,
                name=name,
                score=sum(criterion.met for criterion in criteria),
                reasons=[criterion.reason for criterion in criteria if criterion.met],
                advice=[criterion.advice for criterion in criteria if not criterion.met and criterion.advice],
            )
        )
    return Rating(spec.benchmark.name, categories)
