"""Rate a spec against the six-category rubric of the MLCommons Science benchmark collection.

Each category scores 0–5, one point per criterion, judged only from what the spec states. Every point
comes with its reason and every missing point with the edit that earns it, so a learner can raise the
score by following the advice. A draft (``Draft``: a spec still without ``task`` or ``metrics``, e.g. a
skeleton imported from the MLCommons collection) is rated on what it has, and its descriptive fields
(``benchmark.measures``, ``models``, ``solutions``, ``data_links``, ``fair``; ``results.links``) count
where the runnable parts are missing; ``Rating.missing`` lists what a complete spec still needs::

    rating = rate_spec(load_spec("my.yaml"))
    print(rating)            # a table, then the advice
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from carpentry_kit.spec.croissant import has_croissant
from carpentry_kit.spec.model import Draft, Spec

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
    missing: list[str] = field(default_factory=list)  # what a draft still needs to be a complete spec

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
            "missing": self.missing,
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
        if self.missing:
            lines += ["", "A draft: rated on what it has. Still missing for `carpentry validate`:"]
            lines += [f"  ! {item}" for item in self.missing]
        return "\n".join(lines)


def _known(value: str | None) -> bool:
    return bool(value) and value != UNKNOWN


def _criterion(met: bool, reason: str, advice: str) -> Criterion:
    return Criterion(bool(met), reason, advice)


# Repositories that give data a persistent identifier and index it (FAIR F1, F4), and publish its
# metadata in a standard vocabulary (I1: Croissant on Hugging Face, OpenML and Kaggle; schema.org JSON-LD
# on Zenodo, Figshare, Dataverse and DOI landing pages).
_INDEXED = re.compile(
    r"https?://(?:[\w-]+\.)*(?:doi\.org|zenodo\.org|openml\.org|huggingface\.co|kaggle\.com|figshare\.com"
    r"|dataverse\.[\w.]+|doi\.[\w.]+)/",
    re.IGNORECASE,
)
_CODE_HOSTS = re.compile(
    r"https?://(?:[\w-]+\.)*(?:github\.com|gitlab\.[\w.]+|bitbucket\.org|codeberg\.org)/"
)
_STANDARD_METRICS = re.compile(
    r"\b(accuracy|rmse|mse|mae|auc|roc|f1|precision|recall|iou|bleu|rouge|perplexity|correlation|r2|"
    r"throughput|latency|tokens/s(?:ec)?|speed-?up|time|energy|error)\b",
    re.IGNORECASE,
)
# System constraints or hardware named in words (a draft's description).
_SYSTEM = re.compile(
    r"\b(real-time|latency|fpga|gpus?|cpus?|hardware|memory|on-device|edge|hpc|throughput|budget)\b",
    re.IGNORECASE,
)
# Metrics suited to each ML motif: a metric that captures the benchmark's goal.
_MOTIF_METRICS = {
    "Classification": r"accuracy|auc|roc|f1|precision|recall|iou",
    "Regression": r"rmse|mse|mae|r2|error|correlation",
    "Anomaly Detection": r"auc|roc|f1|precision|recall|false",
    "Generative": r"fid|bleu|rouge|perplexity|likelihood|fidelity",
    "Sequence Prediction/Forecasting": r"rmse|mae|mse|correlation|error|skill",
    "Reasoning & Generalization": r"accuracy|exact|pass@|score",
    "Multimodal Reasoning": r"accuracy|exact|score|recall",
    "Reinforcement Learning/Control": r"reward|return|success",
    "Linear Algebra Kernel": r"flop|throughput|time|latency",
    "Surrogate Modeling": r"rmse|mae|mse|error|speed-?up",
}
_DATA_WORDS = re.compile(r"\b(datasets?|data set|corpus|questions)\b", re.IGNORECASE)
_SPLITS = re.compile(
    r"\b(splits?|train(?:ing)?/(?:val|test)|validation set|test set|held-out)\b", re.IGNORECASE
)


def _text(spec: Spec) -> str:
    """Everything a draft says about itself in words."""
    bench = spec.benchmark
    words = [bench.summary, bench.description, bench.notes, bench.solutions, *bench.keywords, *bench.tasks]
    return " ".join([*words, *bench.capabilities, *bench.measures])


def _links_of(spec: Spec) -> list[str]:
    bench = spec.benchmark
    return [bench.url, *(link.url for link in bench.data_links), *(link.url for link in spec.results.links)]


def _stated(value: str) -> bool:
    return value.strip().lower() == "yes"


def _workload(spec: Spec) -> str:
    return spec.task.workload if spec.task else "(none yet)"


# --------------------------------------------------------------------------------- C1 software environment
def _software(spec: Spec, context: _Context) -> list[Criterion]:
    bench, infra = spec.benchmark, spec.infrastructure
    packages = infra.software.packages
    ready = _stated(bench.fair.benchmark_ready)
    code = [url for url in _links_of(spec) if _CODE_HOSTS.match(url)]
    return [
        _criterion(
            _known(bench.url),
            f"code is available at {bench.url}",
            "add `benchmark.url:` with the repository that holds the code",
        ),
        _criterion(
            context.runnable or ready,
            f"workload '{_workload(spec)}' is registered: `carpentry run` runs it unmodified"
            if context.runnable
            else "the authors state it runs as a benchmark (fair.benchmark_ready: Yes)",
            _runnable_advice(spec),
        ),
        _criterion(
            bool(packages) or bool(code),
            "software needs are pinned: " + ", ".join(f"{k}{v}" for k, v in packages.items())
            if packages
            else f"the code and its set-up are published in a repository ({code[0] if code else ''})",
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


def _runnable_advice(spec: Spec) -> str:
    if spec.task is None:
        return "add `task:` with a registered workload (`carpentry workloads` lists them) so it can be run"
    return f"register workload '{spec.task.workload}' (`carpentry workloads` lists those available)"


# ------------------------------------------------------------------- C2 problem specification and constraints
def _specification(spec: Spec, context: _Context) -> list[Criterion]:
    bench = spec.benchmark
    stated_constraints = [name for name in spec.constraints.model_fields_set]
    described = [dataset for dataset in spec.datasets if dataset.description]
    stated_protocol = {"scenario", "repeats"} <= spec.protocol.model_fields_set
    params = spec.task.params if spec.task else {}
    system = _SYSTEM.search(_text(spec)) if spec.task is None else None
    return [
        _criterion(
            bool(stated_constraints) or bool(system),
            "system constraints given: " + ", ".join(sorted(stated_constraints))
            if stated_constraints
            else f"system constraints named in the description ({system.group(0) if system else ''})",
            "add `constraints:` e.g. time_budget_s or peak_memory_mib: limits a valid run must respect",
        ),
        _criterion(
            bool(bench.summary),
            "task stated in benchmark.summary",
            "add `benchmark.summary:` one sentence saying what is measured",
        ),
        _criterion(
            (bool(spec.datasets) and len(described) == len(spec.datasets))
            or (not spec.datasets and bool(bench.data_links)),
            "every dataset's format is described"
            if spec.datasets
            else "the data is named: " + ", ".join(link.name for link in bench.data_links),
            "describe each dataset's format in `datasets[i].description` (what one sample is, how many)"
            if spec.datasets
            else "declare the input data in `datasets:` with a `description:` of its format",
        ),
        _criterion(
            bool(params) or bool(bench.tasks),
            "inputs specified in task.params: " + ", ".join(params)
            if params
            else "the tasks are stated: " + ", ".join(bench.tasks),
            "list the workload's inputs in `task.params:` (sizes, batch, epochs) instead of relying on defaults",
        ),
        _criterion(
            stated_protocol or bool(bench.measures),
            f"outputs fixed by the protocol: {spec.protocol.scenario}, {spec.protocol.repeats} repeats"
            if stated_protocol
            else "the outputs are named: " + ", ".join(bench.measures),
            "state `protocol.scenario:` and `protocol.repeats:` so everyone reports the same numbers",
        ),
    ]


# ------------------------------------------------------------------------------------ C3 FAIR dataset
def _dataset(spec: Spec, context: _Context) -> list[Criterion]:
    if spec.datasets:
        return _spec_datasets(spec)
    links = spec.benchmark.data_links
    if links:
        return _linked_data(spec, [link.url for link in links])
    if spec.task is None and _DATA_WORDS.search(_text(spec)):
        return _data_in_words(spec)
    advice = "declare the data in `datasets:` (name, source, licence, description, splits)"
    return [_criterion(False, "", advice)] + [_criterion(False, "", "")] * (MAX_SCORE - 1)


def _spec_datasets(spec: Spec) -> list[Criterion]:
    datasets = spec.datasets
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
            all(has_croissant(dataset) for dataset in datasets),
            "interoperable: Croissant metadata for every dataset",
            "interoperable: add `croissant:` with the dataset's Croissant (JSON-LD) file or URL"
            " (`carpentry croissant SPEC` writes one for a file)",
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


def _data_in_words(spec: Spec) -> list[Criterion]:
    """FAIR judged from a draft that describes its data but links none: the benchmark is its dataset."""
    bench = spec.benchmark
    doi = _known(bench.paper) and "doi.org/10." in bench.paper
    advice = (
        "link the data (`benchmark.data_links:`), or declare it in `datasets:` with `croissant:` metadata"
    )
    return [
        _criterion(
            doi, f"findable: the benchmark, which describes its data, has a DOI ({bench.paper})", advice
        ),
        _criterion(
            _known(bench.url), f"accessible: the benchmark, with its data, is public at {bench.url}", ""
        ),
        _criterion(False, "", "interoperable: give the data Croissant metadata (`carpentry croissant SPEC`)"),
        _criterion(_known(bench.license), f"reusable: released under {bench.license}", "state the licence"),
        _criterion(
            bool(_SPLITS.search(_text(spec))), "splits are stated in the description", "state the splits"
        ),
    ]


def _linked_data(spec: Spec, urls: list[str]) -> list[Criterion]:
    """FAIR judged from the data's published links (a draft without runnable `datasets:`)."""
    bench = spec.benchmark
    indexed = [url for url in urls if _INDEXED.match(url)]
    text = " ".join([bench.summary, bench.description, bench.notes, *bench.keywords])
    return [
        _criterion(
            bool(indexed),
            f"findable: the data has a persistent identifier in an indexed repository ({indexed[0] if indexed else ''})",
            "findable: publish the data where it gets a persistent identifier (a DOI, Zenodo, Hugging Face)",
        ),
        _criterion(True, "accessible: the data is at a public URL", ""),
        _criterion(
            bool(indexed),
            "interoperable: its repository publishes standard metadata (Croissant or schema.org)",
            "interoperable: add `datasets:` with `croissant:` metadata (`carpentry croissant SPEC`)",
        ),
        _criterion(
            _known(bench.license),
            f"reusable: released under {bench.license}",
            "reusable: state the licence (`benchmark.license:`, or `license:` of each dataset)",
        ),
        _criterion(
            bool(_SPLITS.search(text)),
            "splits are stated in the description",
            "state the train/test splits (`datasets[i].splits`)",
        ),
    ]


# --------------------------------------------------------------------------------------- C4 metrics
def _metrics(spec: Spec, context: _Context) -> list[Criterion]:
    if not spec.metrics:
        return _described_metrics(spec)
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


def _described_metrics(spec: Spec) -> list[Criterion]:
    """Metrics judged from their names in words (a draft without runnable `metrics:`)."""
    bench = spec.benchmark
    standard = [measure for measure in bench.measures if _STANDARD_METRICS.search(measure)]
    patterns = [_MOTIF_METRICS[motif] for motif in bench.terms("ml_motif") if motif in _MOTIF_METRICS]
    suited = [m for m in bench.measures if any(re.search(rf"\b({p})", m, re.IGNORECASE) for p in patterns)]
    advice = "add `metrics:` (name, kind, unit, goal) that a run reports"
    return [
        _criterion(bool(bench.measures), "metrics named: " + ", ".join(bench.measures), advice),
        _criterion(
            bool(bench.measures) and len(standard) == len(bench.measures),
            "every metric is a standard, well-defined one",
            "name each metric precisely (`benchmark.measures:` e.g. RMSE, accuracy) and define it in `metrics:`",
        ),
        _criterion(
            len(bench.measures) >= 2, "more than one aspect is measured", "add a second metric (time, energy)"
        ),
        _criterion(
            bool(bench.capabilities),
            "the metrics capture a stated goal: " + ", ".join(bench.capabilities),
            "state what the metrics capture (`benchmark.capabilities:`)",
        ),
        _criterion(
            bool(suited),
            "a metric suited to the ml_motif: " + ", ".join(suited),
            "add a metric suited to the ml_motif, with a `target:` in `metrics:`: the value that counts as solved",
        ),
    ]


# ------------------------------------------------------------------------------ C5 reference solution
def _reference(spec: Spec, context: _Context) -> list[Criterion]:
    if spec.task is None:
        return _described_reference(spec)
    references = spec.results.reference
    referenced = {reference.metric for reference in references}
    missing = [metric.name for metric in spec.metrics if metric.name not in referenced]
    hardware = {"cpu_cores", "memory_gb"} <= spec.infrastructure.model_fields_set
    example = spec.metrics[0].name if spec.metrics else "test_accuracy"
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
            bool(spec.metrics) and not missing,
            "every metric has a reference value",
            "add reference values for " + ", ".join(missing) if spec.metrics else "",
        ),
        _criterion(
            hardware,
            f"hardware requirements listed: {spec.infrastructure.cpu_cores} CPU core(s), "
            f"{spec.infrastructure.memory_gb:g} GiB",
            "state `infrastructure.cpu_cores:` and `infrastructure.memory_gb:` that the baseline needs",
        ),
    ]


def _described_reference(spec: Spec) -> list[Criterion]:
    """The reference solution judged from its description (a draft without a `task:`)."""
    bench, links = spec.benchmark, spec.results.links
    solutions = bench.solutions.strip()
    described = _known(solutions) and not solutions.isdigit()
    hardware = _SYSTEM.search(_text(spec))
    return [
        _criterion(
            bool(bench.models), "baselines named: " + ", ".join(bench.models), "name the baseline models"
        ),
        _criterion(
            described,
            f"the solutions are described: {solutions}",
            "describe the reference solution (`benchmark.solutions:`)",
        ),
        _criterion(
            bool(links),
            "published results: " + ", ".join(link.name for link in links),
            "link the published results (`results.links:`)",
        ),
        _criterion(
            _stated(bench.fair.reproducible),
            "the authors state the results are reproducible (fair.reproducible: Yes)",
            "say whether the results can be reproduced (`benchmark.fair.reproducible:`)",
        ),
        _criterion(
            bool(hardware),
            f"the hardware it needs is named ({hardware.group(0) if hardware else ''})",
            "state the hardware the baseline needs (`infrastructure.cpu_cores:`, `memory_gb:`, accelerator)",
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
    info = list_workloads().get(spec.task.workload) if spec.task else None
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
    missing = []
    if spec.task is None:
        missing.append("task: the workload that runs it (`carpentry workloads` lists them)")
    if not spec.metrics:
        missing.append("metrics: what a run reports (name, kind, unit, goal)")
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
    return Rating(spec.benchmark.name, categories, missing)


def load_draft(path_or_text: str | Path) -> Draft:
    """A spec or draft from a file (or YAML text): like ``load_spec``, but ``task`` and ``metrics`` may be
    missing. Any other problem raises SpecError, one line each."""
    from carpentry_kit.errors import SpecError
    from carpentry_kit.spec.messages import validate_document
    from carpentry_kit.spec.yaml_source import read_source

    document = read_source(path_or_text)
    draft, problems = validate_document(document, model=Draft)
    if problems or draft is None:
        raise SpecError(problems)
    draft._source = document
    return draft
