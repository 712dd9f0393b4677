"""Figures with their units for people to read: SI prefixes (586.6 nJ, 12.5 ms, 1.47 mg), not 5.866e-07."""

from __future__ import annotations

import math
from typing import Any

SI_UNITS = ("s", "J", "W", "g")  # shown with SI prefixes (586.6 nJ, 12.5 ms) instead of 5.866e-07
_SI_PREFIXES = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G"}


def format_quantity(value: Any, unit: str) -> str:
    """A figure with its unit: SI-prefixed for seconds, joules, watts, grams (``586.6 nJ``), else ``4.2 GFLOP/s``."""
    if missing(value):
        return "n/a"
    divisor, prefixed = si_scale(value, unit)
    return f"{float(value) / divisor:.4g} {prefixed}".rstrip()


def si_scale(value: Any, unit: str) -> tuple[float, str]:
    """The divisor and prefixed unit that print ``value`` between 1 and 1000: ``(1e-06, "µs")`` for 4.5e-05 s.

    Units without SI prefixes (``GFLOP/s``, ``%``) and zero, missing or infinite values keep ``(1.0, unit)``.
    """
    if unit not in SI_UNITS or missing(value) or not math.isfinite(float(value)) or float(value) == 0:
        return 1.0, unit
    exponent = max(-12, min(9, 3 * math.floor(math.log10(abs(float(value))) / 3)))
    return 10.0**exponent, f"{_SI_PREFIXES[exponent]}{unit}"


def format_mass_kg(kilograms: Any) -> str:
    """A mass given in kilograms, SI-prefixed in grams: ``1.468e-06`` -> ``1.468 mg``."""
    return format_quantity(None if missing(kilograms) else float(kilograms) * 1000.0, "g")


def missing(value: Any) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))
