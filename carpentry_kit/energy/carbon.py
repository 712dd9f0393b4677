"""Carbon *estimates* from energy, using the grid carbon intensities codecarbon ships (no network).

``carbon_estimate(joules, "FRA")`` multiplies the energy by the country's yearly average grid intensity
from codecarbon's ``data/private_infra/global_energy_mix.json``. It is an estimate: the real intensity
varies by hour, region and contract.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from carpentry_kit.energy.base import EnergyError, EnergyUnavailable
from carpentry_kit.energy.codecarbon_meter import COUNTRY_ENV_VAR, default_country

J_PER_KWH = 3.6e6


def _codecarbon_data_dir() -> Path:
    spec = importlib.util.find_spec("codecarbon")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise EnergyUnavailable(
            "codecarbon is not installed — its grid carbon data is needed: pip install codecarbon"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "private_infra"


@functools.lru_cache(maxsize=1)
def _grid_data() -> tuple[dict[str, Any], float]:
    folder = _codecarbon_data_dir()
    mix = json.loads((folder / "global_energy_mix.json").read_text())
    per_source = json.loads((folder / "carbon_intensity_per_source.json").read_text())
    return mix, float(per_source["world_average"])


def grid_intensity_g_per_kwh(country_iso_code: str) -> tuple[float, str]:
    """Grid carbon intensity (gCO2e/kWh) for a 3-letter ISO country code, and where it came from."""
    mix, world_average = _grid_data()
    code = country_iso_code.upper()
    if code not in mix:
        examples = ", ".join(c for c in ("USA", "GBR", "FRA", "DEU", "IND", "CHN") if c in mix)
        raise EnergyError(
            f"unknown country code {country_iso_code!r} — use a 3-letter ISO code such as {examples} "
            f"(set {COUNTRY_ENV_VAR} or pass country_iso_code)"
        )
    entry = mix[code]
    year = entry.get("year", "unknown year")
    if entry.get("carbon_intensity") is None:
        return (
            world_average,
            f"world average {world_average:g} gCO2e/kWh (no figure for {entry.get('country_name', code)})",
        )
    intensity = float(entry["carbon_intensity"])
    return intensity, f"{entry.get('country_name', code)} {year} grid average {intensity:g} gCO2e/kWh"


def carbon_estimate(joules: float, country_iso_code: str | None = None) -> tuple[float, str]:
    """Estimated kg CO2e for ``joules`` of electricity in a country, and a one-line statement of the method.

    The country defaults to ``CARPENTRY_COUNTRY_ISO_CODE`` or USA.
    """
    if joules < 0:
        raise EnergyError(f"carbon_estimate: negative energy {joules} J — pass the energy a run used")
    code = country_iso_code or default_country()
    try:
        intensity, source = grid_intensity_g_per_kwh(code)
    except EnergyUnavailable:
        raise
    except EnergyError as error:
        if country_iso_code is None and COUNTRY_ENV_VAR in os.environ:  # say where the bad code came from
            raise EnergyError(f"{COUNTRY_ENV_VAR}={os.environ[COUNTRY_ENV_VAR]!r}: {error}") from None
        raise
    kilograms = joules / J_PER_KWH * intensity / 1000.0
    return kilograms, f"estimate: energy x {source} (codecarbon global_energy_mix.json)"
