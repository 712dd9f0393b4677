"""Hardware profiles: what the roofline model needs to know about a machine, every figure with its source.

A profile is a YAML file (``profile_version: 1``). The catalogue is the files in ``hardware/`` next to this
module, named by their ``name``; ``carpentry calibrate -o FILE`` writes one for this machine, and a user adds
a machine by writing a file of the same shape. Every figure is ``{value: NUMBER, source: "TEXT"}``: the
document (or measurement) it came from. Units are SI: FLOP/s, B/s, B, W, s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carpentry_kit.errors import UsageError, close_match

PROFILE_VERSION = 1
CATALOGUE_DIR = Path(__file__).parent / "hardware"
KINDS = ("cpu", "gpu")


@dataclass(frozen=True)
class Figure:
    """One number and where it came from; ``value`` is None where the source says it does not exist."""

    value: Any
    source: str


@dataclass(frozen=True)
class Profile:
    """A machine as the roofline model sees it (see the module docstring for the file format)."""

    name: str
    title: str
    kind: str
    peak_flop_s: dict[str, Figure]
    memory_bandwidth_b_s: Figure
    power_max_w: Figure
    power_idle_w: Figure
    overhead_s: Figure  # value: (low, typical, high) seconds a framework call
    compute_efficiency: Figure  # value: (low, typical, high) fraction of peak
    memory_efficiency: Figure
    cores: Figure | None = None
    memory_capacity_b: Figure | None = None
    single_thread_flop_s: dict[str, Figure] = field(default_factory=dict)  # calibrated profiles only
    single_thread_bandwidth_b_s: Figure | None = None
    power_loaded_1_thread_w: Figure | None = None  # calibrated profiles only
    overhead_in_loop_s: dict[str, Figure] = field(default_factory=dict)  # calibrated: training, query
    measured: bool = False  # True for a calibration of a real machine
    path: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def peak(self, dtype: str, threads: int) -> tuple[float, str]:
        """Peak FLOP/s for ``dtype`` with ``threads`` threads, and how it was obtained."""
        if threads == 1 and dtype in self.single_thread_flop_s:
            figure = self.single_thread_flop_s[dtype]
            return float(figure.value), figure.source
        figure = self.peak_flop_s.get(dtype)
        if figure is None or figure.value is None:
            why = figure.source if figure is not None else "no peak figure for it in the profile"
            raise UsageError(
                f"{self.label()}: peak_flop_s.{dtype}: {why} — choose another dtype or add the figure"
            )
        share, note = self.thread_share(threads)
        return float(figure.value) * share, figure.source + note

    def bandwidth(self, threads: int) -> tuple[float, str]:
        """Memory bandwidth (B/s) with ``threads`` threads, and how it was obtained."""
        if threads == 1 and self.single_thread_bandwidth_b_s is not None:
            return float(self.single_thread_bandwidth_b_s.value), self.single_thread_bandwidth_b_s.source
        note = ""
        if self.kind == "cpu" and self.cores is not None and threads < int(self.cores.value):
            note = f"; with {threads} of {self.cores.value} cores a CPU usually reaches less (not modelled)"
        return float(self.memory_bandwidth_b_s.value), self.memory_bandwidth_b_s.source + note

    def power(self, threads: int) -> tuple[float, float, str] | None:
        """(low, high) watts while work runs on ``threads`` threads, and how; None without a power figure.

        A calibration's loaded power is what a run draws (low = high); a data sheet's rated power is an upper
        bound and its idle power (where published) the lower one, both x the share of a CPU's cores used."""
        loaded = self.power_loaded_1_thread_w
        if threads == 1 and loaded is not None and loaded.value is not None:
            return loaded.value, loaded.value, loaded.source
        rated = self.power_max_w.value
        if rated is None:
            return None
        share, note = self.thread_share(threads)
        idle = self.power_idle_w.value
        if self.measured:
            return rated * share, rated * share, self.power_max_w.source + note
        how = f"rated {rated:g} W ({self.power_max_w.source})"
        how += (
            f"; idle {idle:g} W ({self.power_idle_w.source})"
            if idle is not None
            else "; no idle power published"
        )
        return (idle if idle is not None else rated) * share, rated * share, how + note

    def call_overhead(self, loop: str = "") -> tuple[float, float, float]:
        """(low, typical, high) seconds a framework call costs; inside a Python loop of small operations
        (``loop``: training, query) the calibrated cost of such a call is the typical one, where measured."""
        low, typical, high = self.overhead_s.value
        figure = self.overhead_in_loop_s.get(loop)
        if figure is not None:
            return min(low, figure.value), figure.value, max(high, figure.value)
        return low, typical, high

    def thread_share(self, threads: int) -> tuple[float, str]:
        """The fraction of a CPU's cores ``threads`` threads use (1 for a GPU), with a note saying so."""
        if self.kind != "cpu" or self.cores is None:
            return 1.0, ""
        cores = int(self.cores.value)
        used = min(threads, cores)
        return used / cores, f"; x {used}/{cores} cores for threads={threads}" if used < cores else ""

    def label(self) -> str:
        return self.path or f"hardware profile '{self.name}'"


def catalogue() -> dict[str, Path]:
    """Name -> file of every profile shipped with carpentry-kit."""
    return {path.stem: path for path in sorted(CATALOGUE_DIR.glob("*.yaml"))}


def load_profile(name_or_path: str | os.PathLike[str]) -> Profile:
    """A catalogue profile by name, or a profile file; one-line ``UsageError`` naming the field otherwise."""
    text = str(name_or_path)
    known = catalogue()
    if text in known:
        return profile_from_dict(_read_yaml(known[text]), str(known[text]))
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise UsageError(f"--hardware {text}: no such file — give a profile name or a YAML file")
        return profile_from_dict(_read_yaml(path), str(path))
    close = close_match(text, known)
    hint = f"did you mean '{close}'? " if close else ""
    raise UsageError(
        f"--hardware {text}: no such hardware profile — {hint}known: this, {', '.join(known)}, or a YAML file"
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"{path}: cannot read the hardware profile: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a hardware profile is a YAML mapping — see {CATALOGUE_DIR} for examples")
    return data


def profile_from_dict(data: dict[str, Any], where: str = "<profile>") -> Profile:
    """Check and convert a profile's YAML mapping; errors name ``where`` and the field."""
    reader = _Reader(data, where)
    version = reader.get("profile_version")
    if version != PROFILE_VERSION:
        reader.fail("profile_version", f"is {version!r}, expected {PROFILE_VERSION}")
    kind = reader.get("kind")
    if kind not in KINDS:
        reader.fail("kind", f"is {kind!r}, expected one of {', '.join(KINDS)}")
    peaks = reader.figures("peak_flop_s", allow_null=True)
    if not any(figure.value is not None for figure in peaks.values()):
        reader.fail("peak_flop_s", "gives no dtype a value, e.g. float32: {value: 1.0e12, source: ...}")
    return Profile(
        name=str(reader.get("name")),
        title=str(data.get("title") or reader.get("name")),
        kind=kind,
        peak_flop_s=peaks,
        memory_bandwidth_b_s=reader.figure("memory_bandwidth_b_s"),
        power_max_w=reader.figure("power_w.max", allow_null=True),
        power_idle_w=reader.figure("power_w.idle", allow_null=True),
        overhead_s=reader.seconds_range("overhead_s"),
        compute_efficiency=reader.fraction_range("efficiency.compute"),
        memory_efficiency=reader.fraction_range("efficiency.memory"),
        cores=reader.figure("cores") if "cores" in data else None,
        memory_capacity_b=reader.figure("memory_capacity_b", allow_null=True)
        if "memory_capacity_b" in data
        else None,
        single_thread_flop_s=reader.figures("single_thread_flop_s") if "single_thread_flop_s" in data else {},
        single_thread_bandwidth_b_s=(
            reader.figure("single_thread_bandwidth_b_s") if "single_thread_bandwidth_b_s" in data else None
        ),
        power_loaded_1_thread_w=(
            reader.figure("power_w.loaded_1_thread", allow_null=True)
            if "loaded_1_thread" in (data.get("power_w") or {})
            else None
        ),
        overhead_in_loop_s=reader.figures("overhead_in_loop_s") if "overhead_in_loop_s" in data else {},
        measured=bool(data.get("measured", False)),
        path=where,
        raw=data,
    )


class _Reader:
    """Reads dotted fields of a profile mapping; every problem is one line naming the file and field."""

    def __init__(self, data: dict[str, Any], where: str):
        self.data, self.where = data, where

    def fail(self, field_name: str, message: str) -> None:
        raise UsageError(f"{self.where}: {field_name}: {message} — see {CATALOGUE_DIR} for examples")

    def get(self, dotted: str) -> Any:
        value: Any = self.data
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                self.fail(dotted, "is missing")
            value = value[part]
        return value

    def figure(self, dotted: str, allow_null: bool = False) -> Figure:
        raw = self.get(dotted)
        if not isinstance(raw, dict) or "value" not in raw or not raw.get("source"):
            self.fail(dotted, 'must be {value: NUMBER, source: "where the number comes from"}')
        value = _number(raw["value"])
        if value is None and allow_null:
            return Figure(None, str(raw["source"]))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            self.fail(f"{dotted}.value", f"{value!r} is not a positive number")
        return Figure(float(value), str(raw["source"]))

    def figures(self, dotted: str, allow_null: bool = False) -> dict[str, Figure]:
        raw = self.get(dotted)
        if not isinstance(raw, dict) or not raw:
            self.fail(dotted, "must map each dtype to {value, source}")
        return {str(key): self.figure(f"{dotted}.{key}", allow_null) for key in raw}

    def seconds_range(self, dotted: str) -> Figure:
        """``{value: TYPICAL, range: [LOW, HIGH], source}`` (range optional) as a (low, typical, high) figure."""
        figure = self.figure(dotted)
        raw = self.get(dotted).get("range", [figure.value, figure.value])
        bounds = [_number(v) for v in raw] if isinstance(raw, list) else []
        if len(bounds) != 2 or not all(isinstance(v, (int, float)) for v in bounds):
            self.fail(f"{dotted}.range", "must be [LOW, HIGH] around the value")
        if not 0 < bounds[0] <= figure.value <= bounds[1]:
            self.fail(f"{dotted}.range", f"{raw!r} must satisfy 0 < LOW <= value <= HIGH")
        return Figure((float(bounds[0]), figure.value, float(bounds[1])), figure.source)

    def fraction_range(self, dotted: str) -> Figure:
        raw = self.get(dotted)
        value = raw.get("value") if isinstance(raw, dict) else None
        ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
        if not ok or not raw.get("source") or not 0 < value[0] <= value[1] <= 1:
            self.fail(dotted, "must be {value: [LOW, HIGH], source: ...} with 0 < LOW <= HIGH <= 1")
        low, high = float(value[0]), float(value[1])
        typical = _number(raw.get("typical", (low * high) ** 0.5))
        if not isinstance(typical, (int, float)) or not low <= typical <= high:
            self.fail(
                f"{dotted}.typical",
                f"{typical!r} must lie between LOW and HIGH (default: their geometric mean)",
            )
        return Figure((low, float(typical), high), str(raw["source"]))


def _number(value: Any) -> Any:
    """YAML 1.1 reads ``34.0e12`` (no sign in the exponent) as a string: accept it as the number it is."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
