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

from carpentry_kit.ontology import VOCABULARIES, closest_term

SPEC_VERSION = 1

Scenario = Literal["offline", "single-stream", "time-to-quality"]
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


class Benchmark(_Section):
    """Identity and ontology: what the benchmark is and where it sits among others."""

    name: str = Field(..., pattern=NAME_PATTERN, description="Short identifier: lower case, digits, . _ -")
    version: str = Field("0.1", description="Version of this benchmark definition.")
    summary: str = Field("", description="One sentence saying what is measured.")
    description: str = Field("", description="Background, motivation and evaluation criteria.")
    domain: str = Field("Computational Science & AI", description="Science domain (see the ontology).")
    ml_motif: str = Field("Classification", description="ML motif (see the ontology).")
    task_type: str = Field("Supervised Learning", description="Task type (see the ontology).")
    keywords: list[str] = Field(default_factory=list)
    license: str = Field("unknown", description="SPDX licence of the benchmark code and spec.")
    url: str = Field("unknown", description="Where the benchmark lives (repository or page).")
    contact: Contact = Field(default_factory=Contact)
    cite: list[str] = Field(default_factory=list, description="BibTeX entries to cite.")
    paper: str = Field("unknown", description="URL or DOI of an academic paper describing it.")

    @field_validator("domain", "ml_motif", "task_type")
    @classmethod
    def _in_vocabulary(cls, value: str, info: Any) -> str:
        vocabulary = VOCABULARIES[info.field_name]
        if value in vocabulary:
            return value
        suggestion = closest_term(value, vocabulary)
        hint = f"did you mean '{suggestion}'?" if suggestion else "choose one of: " + ", ".join(vocabulary)
        raise ValueError(f"'{value}' is not a known {info.field_name} — {hint}")


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
    license: str = Field("unknown")
    croissant: str | None = Field(None, description="URL of Croissant metadata describing the dataset.")
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
        return self


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
    peak_memory_mb: float | None = Field(None, gt=0, description="Peak resident memory limit, MiB.")
    max_power_w: float | None = Field(None, gt=0, description="Average power limit, watts.")


class Adaptive(_Section):
    enabled: bool = False
    rel_ci_width: float = Field(
        0.05, gt=0, lt=1, description="Stop when the 95% CI of the median is this narrow."
    )
    max_repeats: int = Field(50, ge=1)


class Protocol(_Section):
    """The reproducible protocol: how many times, in which scenario, with which seeds."""

    scenario: Scenario = "offline"
    warmup: int = Field(1, ge=0, description="Untimed repeats before measuring.")
    repeats: int = Field(5, ge=1, description="Timed repeats.")
    min_duration_s: float = Field(0.0, ge=0, description="Keep repeating until this much time is measured.")
    adaptive: Adaptive = Field(default_factory=Adaptive)
    queries: int = Field(100, ge=1, description="single-stream: queries per repeat.")
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)


class ReferenceResult(_Section):
    metric: str
    value: float
    system: str = Field("unknown", description="Where the reference value was obtained.")


class Results(_Section):
    dir: str = Field("results", description="Results directory (JSON Lines store), relative to the CWD.")
    reference: list[ReferenceResult] = Field(default_factory=list)


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
    # Where each value came from (file line, or the --set that overrode it); set by spec.load_spec.
    _source: Any = PrivateAttr(default=None)

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


def canonical_spec(spec: Spec) -> dict[str, Any]:
    """The spec with every default filled in and keys sorted: plain JSON-able data."""
    return json.loads(json.dumps(spec.model_dump(mode="json"), sort_keys=True))


def spec_hash(spec: Spec) -> str:
    """sha256 (hex) of the canonical JSON: equal for specs that mean the same, whatever their layout."""
    text = json.dumps(canonical_spec(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
