"""The benchmark specification, ``spec_version: 1``, as pydantic models.

A spec has eight sections: ``benchmark`` (identity and ontology), ``infrastructure`` (what a run needs),
``datasets``, ``task`` (the workload), ``metrics``, ``constraints``, ``protocol`` (how it is run) and
``results`` (where results go, and reference results). Every field a beginner need not care about has a
default. Unknown keys are errors (``extra="forbid"``), so a typo never passes silently.

This module only describes the format; loading YAML with line numbers lives in ``carpentry_kit.spec``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from carpentry_kit.errors import Loc, Problem, field_path
from carpentry_kit.ontology import BENCHMARK_TYPES, FRESH_SPLIT, VOCABULARIES, Scenario, closest_term

SPEC_VERSION = 1

MetricKind = Literal["quality", "performance", "energy"]
Goal = Literal["maximize", "minimize"]
AcceleratorUse = Literal["none", "optional", "required"]

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class FieldError(ValueError):
    """A model-level check that failed because of one field: ``loc`` is that field's path in the model.

    pydantic reports model validators at the model's own location; ``carpentry_kit.spec`` appends ``loc``
    so the error points at the field (and its line in the YAML), e.g. ``metrics[1].name``.
    """

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class _Section(BaseModel):
    """Base of every section: unknown keys are errors, numbers are finite (no ``.nan``/``.inf``), values
    are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Contact(_Section):
    name: str = Field("unknown", description="Maintainer's name.")
    email: str = Field("unknown", description="Maintainer's e-mail address.")


class Link(_Section):
    """A named link, as the MLCommons collection lists datasets and results."""

    name: str = Field(..., min_length=1)
    url: str = Field(..., min_length=1, description="An http(s) URL.")


class Fair(_Section):
    """The MLCommons collection's FAIR flags, as stated by the benchmark's authors (Yes, No or unknown)."""

    reproducible: str = Field("unknown", description="Yes when others can reproduce the results.")
    benchmark_ready: str = Field("unknown", description="Yes when it runs as a benchmark out of the box.")


Terms = str | list[str]


class Benchmark(_Section):
    """Identity and ontology: what the benchmark is and where it sits among others.

    ``domain``, ``ml_motif`` and ``task_type`` take one ontology term or a list of them. The fields from
    ``type`` to ``fair`` describe the benchmark in words, as an MLCommons collection entry does; they are
    not run (the runnable parts are ``task`` and ``metrics``).
    """

    name: str = Field(..., pattern=NAME_PATTERN, description="Short identifier: lower case, digits, . _ -")
    version: str = Field("0.1", description="Version of this benchmark definition.")
    summary: str = Field("", description="One sentence saying what is measured.")
    description: str = Field("", description="Background, motivation and evaluation criteria.")
    domain: Terms = Field("Computational Science & AI", description="Science domain(s) (see the ontology).")
    ml_motif: Terms = Field("Classification", description="ML motif(s) (see the ontology).")
    task_type: Terms = Field("Supervised Learning", description="Task type(s) (see the ontology).")
    keywords: list[str] = Field(default_factory=list)
    license: str = Field("unknown", description="SPDX licence of the benchmark code and spec.")
    url: str = Field("unknown", description="Where the benchmark lives (repository or page).")
    contact: Contact = Field(default_factory=Contact)
    cite: list[str] = Field(default_factory=list, description="BibTeX entries to cite.")
    paper: str = Field("unknown", description="URL or DOI of an academic paper describing it.")
    type: str = Field("Benchmark", description="Benchmark, Framework, Dataset, Model or Platform.")
    tasks: list[str] = Field(default_factory=list, description="The tasks in words, e.g. Multiple choice.")
    capabilities: list[str] = Field(
        default_factory=list, description="The AI capabilities measured, in words."
    )
    measures: list[str] = Field(
        default_factory=list,
        description="The metrics in words (e.g. RMSE); the runnable ones are `metrics:`.",
    )
    models: list[str] = Field(default_factory=list, description="Models or baselines evaluated, in words.")
    solutions: str = Field("unknown", description="The reference solutions, in words.")
    data_links: list[Link] = Field(
        default_factory=list,
        description="Where the data is published (name, URL); the runnable data is `datasets:`.",
    )
    notes: str = Field("", description="Anything else worth knowing.")
    fair: Fair = Field(default_factory=Fair)

    @field_validator("domain", "ml_motif", "task_type", mode="before")
    @classmethod
    def _term_or_terms(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return value
        raise ValueError(
            f"not a {info.field_name} term or a list of terms — write one term, or a list like [Chemistry, Mathematics]"
        )

    @field_validator("domain", "ml_motif", "task_type")
    @classmethod
    def _in_vocabulary(cls, value: Terms, info: Any) -> Terms:
        vocabulary = VOCABULARIES[info.field_name]
        for term in [value] if isinstance(value, str) else value:
            if term not in vocabulary:
                suggestion = closest_term(term, vocabulary)
                hint = (
                    f"did you mean '{suggestion}'?" if suggestion else "choose from: " + ", ".join(vocabulary)
                )
                raise ValueError(f"'{term}' is not a known {info.field_name} — {hint}")
        if isinstance(value, list) and not value:
            raise ValueError(f"give at least one {info.field_name}")
        return value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in BENCHMARK_TYPES:
            raise ValueError(
                f"'{value}' is not a benchmark type — choose one of: " + ", ".join(BENCHMARK_TYPES)
            )
        return value

    def terms(self, field: str) -> list[str]:
        """The ontology term(s) of ``domain``, ``ml_motif`` or ``task_type`` as a list."""
        value = getattr(self, field)
        return [value] if isinstance(value, str) else list(value)


class Accelerator(_Section):
    use: AcceleratorUse = Field("none", description="none, optional (used when present) or required.")
    kind: Literal["cuda"] = Field("cuda", description="Accelerator kind.")
    count: int = Field(1, ge=1)


class Software(_Section):
    python: str = Field(">=3.10", description="PEP 440 specifier for the Python version.")
    packages: dict[str, str] = Field(
        default_factory=dict, description="Distribution name -> PEP 440 specifier, e.g. torch: '>=2.1'."
    )

    @field_validator("python")
    @classmethod
    def _python_specifier(cls, value: str) -> str:
        _check_specifier(value)
        return value

    @field_validator("packages")
    @classmethod
    def _package_specifiers(cls, value: dict[str, str]) -> dict[str, str]:
        for specifier in value.values():
            _check_specifier(specifier)
        return value


def _check_specifier(text: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        raise ValueError(f"'{text}' is not a version specifier — write e.g. '>=2.1' or '==1.4.*'") from None


class Infrastructure(_Section):
    """What a run needs, checked before it starts."""

    cpu_cores: int = Field(1, ge=1, description="Minimum number of CPU cores.")
    memory_gb: float = Field(1.0, gt=0, description="Minimum memory available, in GiB.")
    accelerator: Accelerator = Field(default_factory=Accelerator)
    software: Software = Field(default_factory=Software)
    threads: int = Field(1, ge=1, description="Threads the workload may use (torch.set_num_threads).")
    container: str | None = Field(None, description="Optional container image, e.g. docker.io/org/img:tag.")


class FreshDraw(_Section):
    """New test data of the same distribution, drawn from a ``builtin:`` generator with another seed."""

    seed: int = Field(
        ..., ge=0, description="Seed of the fresh draw; use one the public data was not made with."
    )
    rows: int | None = Field(
        None, ge=2, description="Rows to draw (default: as many as the test split holds)."
    )


class Dataset(_Section):
    name: str = Field(..., pattern=NAME_PATTERN)
    source: str = Field(..., description="builtin:<name>, a path relative to the spec, or an http(s) URL.")
    sha256: str | None = Field(None, description="Checksum; required for paths and URLs.")
    size_bytes: int | None = Field(
        None, ge=1, description="The file's size in bytes (optional): a download stops at anything else."
    )
    splits: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.8, "test": 0.2},
        description="Split name -> fraction of the data; fractions add up to 1.",
    )
    fresh: FreshDraw | None = Field(
        None,
        description=(
            "Fresh test data, drawn anew from a builtin generator (`fresh: {seed: 7}`); a run reports quality on"
            " the public test split and on the fresh data, and the gap. Datasets that cannot be redrawn reserve"
            " a split named `fresh` instead."
        ),
    )
    license: str = Field("unknown")
    croissant: str | None = Field(
        None,
        description="Croissant (JSON-LD) metadata of the dataset: a path relative to the spec, or a URL.",
    )
    description: str = Field("")

    @field_validator("source")
    @classmethod
    def _source_form(cls, value: str) -> str:
        if value.startswith("builtin:") and len(value) > len("builtin:"):
            return value
        if value.startswith(("http://", "https://")) or not re.match(r"^[a-z][a-z0-9+.-]*:", value):
            return value
        raise ValueError(
            f"'{value}' is not a source — use builtin:<name>, a relative path, or an http(s) URL"
        )

    @field_validator("sha256")
    @classmethod
    def _sha256_form(cls, value: str | None) -> str | None:
        if value is not None and not _SHA256.match(value):
            raise ValueError("not a sha256 — give 64 lower-case hex digits (run `sha256sum FILE`)")
        return value

    @field_validator("splits")
    @classmethod
    def _splits_sum(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not 0 < fraction <= 1 for fraction in value.values()):
            raise ValueError("each split fraction must be in (0, 1]")
        if value and abs(sum(value.values()) - 1.0) > 1e-6:
            raise ValueError(f"split fractions add up to {sum(value.values()):g} — make them add up to 1")
        return value

    @model_validator(mode="after")
    def _checksum_needed(self) -> Dataset:
        if not self.source.startswith("builtin:") and self.sha256 is None:
            raise FieldError(
                ("sha256",), "sha256 is required for a path or URL source — add `sha256: <64 hex digits>`"
            )
        if self.fresh is not None:
            from carpentry_kit.data.datasets import fresh_draw_problem

            problem = fresh_draw_problem(self.source)
            if problem is not None:
                raise FieldError(("fresh",), " — ".join(problem))
        if self.fresh is not None and FRESH_SPLIT in self.splits:
            raise FieldError(
                ("fresh",),
                "the dataset has a reserved 'fresh' split and a fresh draw — keep one of them",
            )
        return self

    def has_fresh(self) -> bool:
        """Whether a run measures quality on fresh data too (a fresh draw or a reserved split)."""
        return self.fresh is not None or FRESH_SPLIT in self.splits


class Task(_Section):
    """The workload to run, by registered name, with its parameters."""

    workload: str = Field(..., description="A registered workload name (`carpentry workloads` lists them).")
    params: dict[str, Any] = Field(default_factory=dict, description="Workload parameters.")
    seed: int = Field(0, ge=0, description="Seed for data splits, initialisation and sampling.")


class Metric(_Section):
    name: str = Field(..., pattern=NAME_PATTERN)
    kind: MetricKind
    unit: str = Field(..., min_length=1, description="Unit, e.g. s, samples/s, J, fraction, GFLOP/s.")
    goal: Goal
    target: float | None = Field(None, description="For quality metrics: the value that counts as solved.")
    description: str = Field("")


class Constraints(_Section):
    """Limits a run must respect; breaking one makes the result INVALID."""

    time_budget_s: float | None = Field(None, gt=0, description="Wall-clock limit for the timed run.")
    energy_budget_j: float | None = Field(None, gt=0, description="Energy limit for the timed run, joules.")
    peak_memory_mib: float | None = Field(None, gt=0, description="Peak resident memory limit, MiB.")
    max_power_w: float | None = Field(None, gt=0, description="Average power limit, watts.")


class Adaptive(_Section):
    enabled: bool = False
    rel_ci_width: float = Field(
        0.05,
        gt=0,
        lt=1,
        description=(
            "Stop when the CI of the median (at least 95% coverage, so from 6 repeats on) is this narrow, "
            "relative to the median."
        ),
    )
    max_repeats: int = Field(50, ge=1)


class LoadGen(_Section):
    """MLPerf LoadGen's settings for the inference scenarios (single-stream, multi-stream, server, offline)."""

    mode: Literal["performance", "accuracy"] = Field(
        "performance", description="performance: timed queries; accuracy: every sample once, quality checked."
    )
    min_duration_s: float = Field(1.0, ge=0, description="Each LoadGen test runs at least this long.")
    min_query_count: int = Field(64, ge=1, description="...and issues at least this many queries.")
    target_qps: float = Field(10.0, gt=0, description="server: Poisson arrival rate, queries per second.")
    target_latency_s: float = Field(0.1, gt=0, description="server: latency bound at latency_percentile.")
    latency_percentile: float = Field(
        0.99, gt=0, lt=1, description="server: the percentile that must meet it."
    )
    samples_per_query: int = Field(8, ge=1, description="multi-stream: samples in each query.")
    expected_latency_s: float = Field(
        1e-5,
        gt=0,
        description="single/multi-stream: a lower bound of a query's latency; LoadGen plans min_duration_s of"
        " queries at it, so a value above the real latency ends the test before min_duration_s (INVALID).",
    )
    expected_qps: float = Field(
        100.0,
        gt=0,
        description="offline: samples per second to plan for (the one query holds expected_qps x"
        " min_duration_s samples); below the real rate the test ends before min_duration_s (INVALID).",
    )
    ttft_latency_s: float = Field(
        1.0, gt=0, description="server, token workloads: bound on time to first token."
    )
    tpot_latency_s: float = Field(
        0.1, gt=0, description="server, token workloads: bound on time per output token."
    )
    seed: int = Field(0, description="Seeds LoadGen's sample order and arrival schedule.")


Division = Literal["closed", "open"]


class Protocol(_Section):
    """The reproducible protocol: how many times, in which scenario, with which seeds, under which rules."""

    scenario: Scenario = "offline"
    warmup: int = Field(1, ge=0, description="Untimed repeats before measuring.")
    repeats: int = Field(5, ge=1, description="Timed repeats.")
    min_duration_s: float = Field(0.0, ge=0, description="Keep repeating until this much time is measured.")
    adaptive: Adaptive = Field(default_factory=Adaptive)
    queries: int = Field(100, ge=1, description="Samples in the query set of a workload that does not say.")
    loadgen: LoadGen = Field(default_factory=LoadGen)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    clock_includes_eval: bool = Field(
        True,
        description=(
            "time-to-quality: the clock runs through evaluation, as MLPerf Training's rules require. "
            "false times training epochs only — not MLPerf-conformant, and labelled so in the record."
        ),
    )
    division: Division = Field(
        "open",
        description=(
            "closed: only the fields in `tunable` may be overridden (--set, a sweep's grid), as in MLPerf's "
            "closed division; open: any override is allowed, and every one is recorded."
        ),
    )
    tunable: list[str] = Field(
        default_factory=list,
        description="Dotted paths of the fields a closed-division run may override, e.g. task.params.size.",
    )


class ReferenceResult(_Section):
    metric: str
    value: float
    system: str = Field("unknown", description="Where the reference value was obtained.")


class Results(_Section):
    dir: str = Field("results", description="Results directory (JSON Lines store), relative to the CWD.")
    reference: list[ReferenceResult] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list, description="Published results: name and URL.")


class Spec(_Section):
    """A complete benchmark specification."""

    spec_version: Literal[1] = Field(SPEC_VERSION, description="Format version; always 1 for now.")
    benchmark: Benchmark
    infrastructure: Infrastructure = Field(default_factory=Infrastructure)
    datasets: list[Dataset] = Field(default_factory=list)
    task: Task
    metrics: list[Metric] = Field(..., min_length=1)
    constraints: Constraints = Field(default_factory=Constraints)
    protocol: Protocol = Field(default_factory=Protocol)
    results: Results = Field(default_factory=Results)
    # The YAML document it was read from (spec.load uses it to apply overrides); set by load_spec.
    _source: Any = PrivateAttr(default=None)
    # Where each value came from: loc -> (file, line, column); the --set that overrode it has no line.
    _positions: dict[Loc, tuple[str, int | None, int | None]] = PrivateAttr(default_factory=dict)
    _file: str = PrivateAttr(default="<spec>")

    @model_validator(mode="after")
    def _cross_checks(self) -> Spec:
        names = [metric.name for metric in self.metrics]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise FieldError(
                    ("metrics", index, "name"),
                    f"metric '{name}' is declared twice (first as metrics[{names.index(name)}])"
                    " — give each metric a unique name or remove the repeat",
                )
        if self.protocol.scenario == "time-to-quality" and self.quality_target() is None:
            raise FieldError(
                ("protocol", "scenario"),
                "scenario time-to-quality needs a quality metric with a target"
                " — add `target:` to a metric of kind quality",
            )
        return self

    def quality_target(self) -> Metric | None:
        """The first quality metric with a target: the one that defines 'solved'."""
        return next((m for m in self.metrics if m.kind == "quality" and m.target is not None), None)

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def is_tunable(self, path: str) -> bool:
        """Whether overriding ``path`` is allowed by ``protocol.tunable`` (a listed field or inside one)."""
        return any(within_field(path, field) for field in self.protocol.tunable)

    def untunable_overrides(self, overrides: dict[str, Any]) -> list[str]:
        """The override paths this spec's closed division refuses (none in open; ``protocol.division`` is
        always allowed: overriding it to open is how a run leaves the closed division)."""
        if self.protocol.division != "closed":
            return []
        return [path for path in overrides if path != DIVISION_FIELD and not self.is_tunable(path)]

    def division_problems(self, overrides: dict[str, Any]) -> list[Problem]:
        """One problem per override this spec's closed division refuses (``spec/division.py``)."""
        tunable = ", ".join(self.protocol.tunable) or "nothing"
        return [
            Problem(
                f"--set {path}={json.dumps(overrides[path], default=str)}",
                None,
                None,
                path,
                f"not tunable in the closed division (protocol.tunable: {tunable})",
                f"add {path} to protocol.tunable, or run in the open division (--set {DIVISION_FIELD}=open)",
            )
            for path in self.untunable_overrides(overrides)
        ]

    def problem_at(self, loc: Loc, message: str, hint: str) -> Problem:
        """A ``Problem`` placed where ``loc`` was written (or the nearest enclosing value, or the ``--set``
        that gave it): how later stages (the runner's machine and dataset checks) report like validation."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self._positions:
                file, line, column = self._positions[loc[:end]]
                return Problem(file, line, column, field_path(loc), message, hint)
        return Problem(self._file, None, None, field_path(loc), message, hint)


DIVISION_FIELD = "protocol.division"


def within_field(path: str, field: str) -> bool:
    """Whether ``path`` is ``field`` or a field inside it (``task.params.size`` is within ``task.params``)."""
    return path == field or path.startswith(f"{field}.")


def canonical_spec(spec: Spec) -> dict[str, Any]:
    """The spec with every default filled in and keys sorted: plain JSON-able data."""
    return json.loads(json.dumps(spec.model_dump(mode="json"), sort_keys=True))


def spec_hash(spec: Spec) -> str:
    """sha256 (hex) of the canonical JSON: equal for specs that mean the same, whatever their layout."""
    text = json.dumps(canonical_spec(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Draft(Spec):
    """A spec being written, or imported from a collection entry: ``task`` and ``metrics`` may be missing.

    ``carpentry rate`` rates a draft (and says what is missing); ``carpentry validate`` requires a Spec.
    """

    task: Task | None = None  # type: ignore[assignment]
    metrics: list[Metric] = Field(default_factory=list)
