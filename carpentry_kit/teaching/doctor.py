"""``carpentry doctor``: is this machine ready for the workshop?

One line per check, PASS / WARN / FAIL: the Python version, every required package and its version (read
from carpentry-kit's own installed metadata), the Jupyter ``python3`` kernel, CPU cores, free memory, which
energy methods work here (and why the others do not), write access to the results directory, torch's
thread count, and whether ``carpentry grade`` can sandbox submissions (bubblewrap, cgroups). Exit status 0
when nothing FAILs, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DISTRIBUTION = "carpentry-kit"
WORKSHOP_EXTRAS = (
    "teach",
)  # missing packages of these extras are a WARN: the library works, Jupyter may not
MIN_CORES = 2
MIN_MEMORY_GIB = 1.5  # a lesson's peak memory budget
_ENERGY_CAVEATS = {
    "estimate": " (an estimate, not a measurement)",
    "codecarbon": " (a measurement only where it can read RAPL, otherwise an estimate)",
}


@dataclass(frozen=True)
class Check:
    """The outcome of one check: status PASS, WARN or FAIL, what was checked, and what was found."""

    status: str
    name: str
    detail: str


def check_python(requires: str | None, version: str | None = None) -> Check:
    """The running Python against the package's ``Requires-Python``."""
    from packaging.specifiers import SpecifierSet

    version = version or ".".join(map(str, sys.version_info[:3]))
    if not requires:
        return Check("PASS", "python", f"{version} (no requirement declared)")
    if version in SpecifierSet(requires):
        return Check("PASS", "python", f"{version} satisfies {requires}")
    return Check("FAIL", "python", f"{version} does not satisfy {requires} — install a newer Python")


def package_requirements(extras: tuple[str, ...] = WORKSHOP_EXTRAS) -> list[tuple[str, bool]]:
    """carpentry-kit's requirements as (requirement string, required?) — required unless only in ``extras``."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    found: dict[str, tuple[str, bool]] = {}
    for text in requires(DISTRIBUTION) or []:
        requirement = Requirement(text)
        if requirement.name == DISTRIBUTION:
            continue
        core = requirement.marker is None or requirement.marker.evaluate({"extra": ""})
        in_extra = any(
            requirement.marker and requirement.marker.evaluate({"extra": extra}) for extra in extras
        )
        if core or in_extra:
            plain = str(Requirement(text)).split(";")[0].strip()
            found[requirement.name] = (plain, bool(core) or found.get(requirement.name, ("", False))[1])
    return sorted(found.values())


def check_package(requirement_text: str, required: bool = True) -> Check:
    """One requirement: installed, and its version inside the specifier."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    requirement = Requirement(requirement_text)
    name = requirement.name
    severity = "FAIL" if required else "WARN"
    try:
        installed = version(name)
    except PackageNotFoundError:
        return Check(severity, name, f"not installed — pip install '{requirement_text}'")
    if requirement.specifier and installed not in requirement.specifier:
        return Check(
            severity,
            name,
            f"{installed} does not satisfy {requirement.specifier} — pip install '{requirement_text}'",
        )
    return Check("PASS", name, f"{installed} satisfies {requirement.specifier or 'any version'}")


def check_kernel(name: str = "python3") -> Check:
    """Jupyter's ``python3`` kernel exists and runs this Python (so lessons see carpentry-kit)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return Check("WARN", "jupyter kernel", "jupyter_client is not installed — pip install -e '.[teach]'")
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return Check(
            "FAIL",
            "jupyter kernel",
            f"no '{name}' kernel — run `{sys.executable} -m ipykernel install --sys-prefix`",
        )
    program = spec.argv[0]
    same_names = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    if program in same_names or _same_file(program, sys.executable):
        return Check("PASS", "jupyter kernel", f"'{name}' runs this Python ({sys.executable})")
    return Check(
        "WARN",
        "jupyter kernel",
        f"'{name}' runs {program}, not {sys.executable} — run `{sys.executable} -m ipykernel install --sys-prefix`",
    )


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def check_cores(count: int | None = None) -> Check:
    """At least two CPU cores (a Binder machine has two)."""
    count = count or os.cpu_count() or 1
    if count >= MIN_CORES:
        return Check("PASS", "cpu cores", f"{count} cores")
    return Check(
        "WARN", "cpu cores", f"{count} core — lessons run, but slower and noisier than on {MIN_CORES}"
    )


def check_memory(available_bytes: int | None = None) -> Check:
    """Enough free memory for one lesson (1.5 GiB peak)."""
    import psutil

    available = available_bytes if available_bytes is not None else psutil.virtual_memory().available
    gib = available / 2**30
    if gib >= MIN_MEMORY_GIB:
        return Check("PASS", "memory", f"{gib:.1f} GiB available")
    status = "WARN" if gib >= MIN_MEMORY_GIB / 2 else "FAIL"
    return Check(
        status,
        "memory",
        f"{gib:.1f} GiB available; a lesson may need {MIN_MEMORY_GIB} GiB — close other programs",
    )


def check_energy(methods: dict[str, str | None] | None = None) -> list[Check]:
    """One line per energy method: usable here, or why not; FAIL only if none is usable."""
    if methods is None:
        try:
            from carpentry_kit.energy import energy_methods
        except ImportError as error:
            return [Check("FAIL", "energy", f"carpentry_kit.energy is not importable: {error}")]
        methods = energy_methods()
    checks = [
        Check(
            "PASS",
            f"energy: {method}",
            "usable here" + _ENERGY_CAVEATS.get(method, ""),
        )
        if reason is None
        else Check("WARN", f"energy: {method}", f"not usable here — {reason}")
        for method, reason in methods.items()
    ]
    if not any(reason is None for reason in methods.values()):
        checks.append(Check("FAIL", "energy", "no energy method is usable — runs cannot report energy"))
    return checks


def check_results_dir(path: str | Path) -> Check:
    """The results directory can be created and written to (the test file is removed again)."""
    path = Path(path)
    existed = path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-", delete=True) as probe:
            probe.write(b"ok")
        if not existed:
            path.rmdir()
    except OSError as error:
        return Check(
            "FAIL",
            "results dir",
            f"cannot write to {path}: {error.strerror or error} — choose another --results",
        )
    return Check("PASS", "results dir", f"{path} is writable")


def check_torch_threads() -> Check:
    """torch imports, and how many threads it will use."""
    try:
        import torch
    except ImportError as error:
        return Check("FAIL", "torch threads", f"torch is not importable: {error}")
    threads, cores = torch.get_num_threads(), os.cpu_count() or 1
    detail = f"torch {torch.__version__} uses {threads} threads (lessons set 1 for tiny models)"
    if threads > cores:
        return Check(
            "WARN", "torch threads", detail + f", more than the {cores} cores — set OMP_NUM_THREADS={cores}"
        )
    return Check("PASS", "torch threads", detail)


def check_grading_sandbox(problem: str | None = None) -> Check:
    """Whether ``carpentry grade`` can sandbox submissions here (bubblewrap, cgroup limits): instructors
    only, so a WARN when it cannot."""
    if problem is None:
        from carpentry_kit.teaching.sandbox import sandbox_problem

        problem = sandbox_problem()
    if problem:
        return Check("WARN", "grading sandbox", f"carpentry grade will refuse to run here: {problem}")
    return Check("PASS", "grading sandbox", "bubblewrap and cgroup limits work (carpentry grade)")


def run_checks(results_dir: str | Path = "results") -> list[Check]:
    """Every check, in the order they are printed."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        requires_python = metadata(DISTRIBUTION)["Requires-Python"]
    except PackageNotFoundError:
        return [Check("FAIL", DISTRIBUTION, "not installed — run `pip install -e .` in the repository")]
    checks = [check_python(requires_python)]
    checks += [check_package(text, required) for text, required in package_requirements()]
    checks += [
        check_kernel(),
        check_cores(),
        check_memory(),
        *check_energy(),
        check_results_dir(results_dir),
        check_torch_threads(),
        check_grading_sandbox(),
    ]
    return checks


def format_checks(checks: list[Check]) -> str:
    """The report: one line per check, then a summary line."""
    width = max((len(check.name) for check in checks), default=0)
    lines = [f"{check.status:<4}  {check.name:<{width}}  {check.detail}" for check in checks]
    counts = {status: sum(check.status == status for check in checks) for status in ("PASS", "WARN", "FAIL")}
    verdict = "not ready: fix the FAIL lines" if counts["FAIL"] else "ready for the workshop"
    lines.append(f"{counts['PASS']} PASS, {counts['WARN']} WARN, {counts['FAIL']} FAIL — {verdict}")
    return "\n".join(lines)
