"""What machine and software a result came from: MLPerf system-description fields and package versions.

``describe_system()`` fills every field of an MLPerf training system description (the JSON that
``python -m mlperf_logging.system_desc_checker FILE training 6.0.0`` checks) from this machine. Every
value is a string, as in MLPerf's own files; what cannot be detected is ``"unknown"``, and what does not
apply (accelerator fields on a CPU-only node) is ``"N/A"``. Nothing here imports torch.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

UNKNOWN = "unknown"
NOT_APPLICABLE = "N/A"
# Training rulesets >= 4.0 accept only these statuses.
STATUSES = ("Available on-premise", "Available cloud", "Research, Development, or Internal (RDI)", "Preview")
SOFTWARE_PACKAGES = ("numpy", "torch", "scikit-learn", "pandas", "codecarbon", "pydantic")
_CPU_CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")


@functools.lru_cache(maxsize=1)
def _proc_cpuinfo() -> tuple[dict[str, str], ...]:
    """``/proc/cpuinfo`` as one dict per logical CPU (empty where there is no such file).

    Read once per process: four fields of ``describe_system`` need it, and on a many-core node it is large.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    blocks = []
    for block in text.strip().split("\n\n"):
        fields = (line.split(":", 1) for line in block.splitlines() if ":" in line)
        blocks.append({key.strip(): value.strip() for key, value in fields})
    return tuple(blocks)


# Arm CPUs on Linux have no "model name" in /proc/cpuinfo, only the implementer's and the part's ids.
ARM_PARTS = {
    ("0x41", "0xd03"): "ARM Cortex-A53", ("0x41", "0xd08"): "ARM Cortex-A72",
    ("0x41", "0xd0b"): "ARM Cortex-A76", ("0x41", "0xd0c"): "ARM Neoverse-N1",
    ("0x41", "0xd40"): "ARM Neoverse-V1", ("0x41", "0xd49"): "ARM Neoverse-N2",
    ("0x41", "0xd4f"): "ARM Neoverse-V2", ("0x41", "0xd84"): "ARM Neoverse-V3",
    ("0xc0", "0xac3"): "ARM AmpereOne",
}  # fmt: skip


@functools.lru_cache(maxsize=1)
def cpu_model_name() -> str:
    """The CPU's marketing name, e.g. ``Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz``, or ``unknown``.

    Read from ``/proc/cpuinfo`` when it has a model name (instant), or, on Arm, named from its implementer
    and part ids (``ARM Neoverse-N1``, as ``lscpu`` does), else from py-cpuinfo when installed (about a
    second), else from ``platform.processor()``.
    """
    for cpu in _proc_cpuinfo():
        if cpu.get("model name"):
            return cpu["model name"]
    arm = next((cpu for cpu in _proc_cpuinfo() if "CPU implementer" in cpu and "CPU part" in cpu), None)
    if arm is not None:
        ids = (arm["CPU implementer"].lower(), arm["CPU part"].lower())
        return ARM_PARTS.get(ids, f"ARM part {ids[1]} (implementer {ids[0]})")
    try:
        import cpuinfo  # py-cpuinfo

        brand = cpuinfo.get_cpu_info().get("brand_raw")
        if brand:
            return str(brand)
    except Exception:  # py-cpuinfo missing or failing on an odd platform: fall through
        pass
    return platform.processor() or UNKNOWN


@functools.lru_cache(maxsize=1)
def cpu_socket_count() -> int:
    """Number of physical CPU packages (sockets); 1 when the OS does not say."""
    sockets = {cpu["physical id"] for cpu in _proc_cpuinfo() if "physical id" in cpu}
    return max(len(sockets), 1)


@functools.lru_cache(maxsize=1)
def cpu_core_count() -> int:
    """Physical CPU cores the OS shows (all sockets; a virtual machine's vCPUs without their hyperthreads)."""
    cores = {(cpu.get("physical id"), cpu["core id"]) for cpu in _proc_cpuinfo() if "core id" in cpu}
    if cores:
        return len(cores)
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def _human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}".replace(".0 ", " ")
        count /= 1024
    return UNKNOWN  # unreachable


def _cpu_caches() -> str:
    """Per-core caches from sysfs, e.g. ``L1d 48 KiB, L1i 32 KiB, L2 1 MiB, L3 32 MiB``."""
    parts = []
    for index in sorted(_CPU_CACHE_DIR.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        suffix = {"Data": "d", "Instruction": "i"}.get(kind, "")
        parts.append(f"L{level}{suffix} {size}")
    return ", ".join(parts) or UNKNOWN


def _cpu_frequency() -> str:
    import psutil

    try:
        freq = psutil.cpu_freq()
    except (OSError, NotImplementedError):
        freq = None
    if freq and (freq.max or freq.current):
        return f"{freq.max or freq.current:.0f} MHz"
    mhz = next((cpu["cpu MHz"] for cpu in _proc_cpuinfo() if "cpu MHz" in cpu), None)
    return f"{float(mhz):.0f} MHz" if mhz else UNKNOWN


def _operating_system() -> str:
    pretty = None
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                pretty = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    kernel = f"{platform.system()} {platform.release()}".strip()
    return f"{pretty} ({kernel})" if pretty else kernel or UNKNOWN


def _host_fields() -> dict[str, str]:
    import psutil

    sockets = cpu_socket_count()
    physical = psutil.cpu_count(logical=False) or 0
    virtualised = any("hypervisor" in cpu.get("flags", "").split() for cpu in _proc_cpuinfo()[:1])
    return {
        "host_processors_per_node": str(sockets),
        "host_processor_model_name": cpu_model_name(),
        "host_processor_core_count": str(physical // sockets) if physical else UNKNOWN,
        "host_processor_vcpu_count": str(psutil.cpu_count(logical=True) or UNKNOWN),
        "host_processor_frequency": _cpu_frequency(),
        "host_processor_caches": _cpu_caches(),
        "host_processor_interconnect": UNKNOWN if sockets > 1 else NOT_APPLICABLE,
        "host_memory_capacity": _human_bytes(psutil.virtual_memory().total),
        "host_storage_type": UNKNOWN,
        "host_storage_capacity": _human_bytes(psutil.disk_usage(os.getcwd()).total),
        "host_networking": NOT_APPLICABLE,
        "host_networking_topology": NOT_APPLICABLE,
        "host_memory_configuration": UNKNOWN,
        "hw_notes": "filled in automatically by carpentry-kit; 'unknown' = not detected"
        + ("; virtual machine (hypervisor present)" if virtualised else ""),
    }


def _no_accelerator() -> dict[str, str]:
    fields = ("accelerator_model_name", "accelerator_host_interconnect", "accelerator_frequency",
              "accelerator_on-chip_memories", "accelerator_memory_configuration",
              "accelerator_memory_capacity", "accelerator_interconnect", "accelerator_interconnect_topology")  # fmt: skip
    return {"accelerators_per_node": "0", **dict.fromkeys(fields, NOT_APPLICABLE)}


def _nvml_text(call: Any, *args: Any) -> Any:
    """One NVML query, or None where this GPU or driver does not support it."""
    try:
        return call(*args)
    except Exception:  # pynvml.NVMLError and its many subclasses
        return None


def _accelerator_fields() -> dict[str, str]:
    """Accelerator fields from NVML (GPU 0 describes the node: MLPerf nodes are homogeneous)."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no nvidia-ml-py, no driver, no GPU
        return _no_accelerator()
    try:
        count = pynvml.nvmlDeviceGetCount()
        if count == 0:
            return _no_accelerator()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = _nvml_text(pynvml.nvmlDeviceGetName, handle)
        memory = _nvml_text(pynvml.nvmlDeviceGetMemoryInfo, handle)
        clock = _nvml_text(pynvml.nvmlDeviceGetMaxClockInfo, handle, pynvml.NVML_CLOCK_SM)
        gen = _nvml_text(pynvml.nvmlDeviceGetMaxPcieLinkGeneration, handle)
        width = _nvml_text(pynvml.nvmlDeviceGetMaxPcieLinkWidth, handle)
        return {
            "accelerators_per_node": str(count),
            "accelerator_model_name": (name.decode() if isinstance(name, bytes) else name) or UNKNOWN,
            "accelerator_host_interconnect": f"PCIe Gen{gen} x{width}" if gen and width else UNKNOWN,
            "accelerator_frequency": f"{clock} MHz" if clock else UNKNOWN,
            "accelerator_on-chip_memories": UNKNOWN,
            "accelerator_memory_configuration": UNKNOWN,
            "accelerator_memory_capacity": _human_bytes(memory.total) if memory else UNKNOWN,
            "accelerator_interconnect": UNKNOWN if count > 1 else NOT_APPLICABLE,
            "accelerator_interconnect_topology": UNKNOWN if count > 1 else NOT_APPLICABLE,
        }
    finally:
        pynvml.nvmlShutdown()


def software_versions() -> dict[str, str]:
    """Versions of Python, carpentry-kit and the installed packages that shape a result.

    Keys are distribution names (``scikit-learn``); read from package metadata, nothing is imported.
    """
    from importlib.metadata import version

    versions = {"python": platform.python_version(), "carpentry_kit": version("carpentry-kit")}
    for package in SOFTWARE_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _framework(versions: dict[str, str]) -> str:
    """``PyTorch 2.3.1 (CUDA 12.1)``; the CUDA part only when torch is already imported (never imported here)."""
    if "torch" not in versions:
        return NOT_APPLICABLE
    torch = sys.modules.get("torch")
    cuda = getattr(getattr(torch, "version", None), "cuda", None)
    return f"PyTorch {versions['torch']}" + (f" (CUDA {cuda})" if cuda else "")


def _system_name(fields: dict[str, str]) -> str:
    name = f"{fields['host_processor_model_name']}, {fields['host_processor_vcpu_count']} vCPU"
    if fields["accelerators_per_node"] != "0":
        name += f", {fields['accelerators_per_node']}x {fields['accelerator_model_name']}"
    return name


def describe_system(**overrides: str) -> dict[str, str]:
    """Every MLPerf system-description field for this machine, as strings.

    ``overrides`` replace detected values, e.g. ``submitter="My Lab"`` or ``status="Available cloud"``;
    an unknown field name or a status outside the training ruleset's list raises ValueError.
    """
    versions = software_versions()
    fields = {**_host_fields(), **_accelerator_fields()}
    framework = _framework(versions)
    others = ", ".join(f"{name} {version}" for name, version in versions.items() if name != "torch")
    description = {
        "submitter": os.environ.get("CARPENTRY_SUBMITTER", UNKNOWN),
        "division": "open",
        "status": "Research, Development, or Internal (RDI)",
        "system_name": _system_name(fields),
        "number_of_nodes": "1",
        **fields,
        "cooling": UNKNOWN,
        "framework": framework,
        "other_software_stack": others,
        "operating_system": _operating_system(),
        "sw_notes": f"Python {sys.version.split()[0]} ({platform.python_implementation()})",
    }
    _check_overrides(overrides, description)
    description.update({key: str(value) for key, value in overrides.items()})
    return description


def _check_overrides(overrides: dict[str, Any], description: dict[str, str]) -> None:
    unknown = sorted(set(overrides) - set(description))
    if unknown:
        raise ValueError(
            f"describe_system: unknown field {unknown[0]!r} — valid fields: {', '.join(description)}"
        )
    if "status" in overrides and overrides["status"] not in STATUSES:
        raise ValueError(
            f"describe_system: status {overrides['status']!r} is not one of {', '.join(STATUSES)}"
        )
