"""Energy meters: one interface, several methods — RAPL, NVML, codecarbon and a transparent estimate.

A meter measures windows (``begin()`` / ``end() -> EnergyReading``, or ``with meter.window() as w``),
in joules and seconds, and always says whether the figure is a measurement or an estimate and where it
came from. ``make_meter("auto", device)`` picks the most direct method this machine allows;
``energy_methods()`` says which methods work here and why the others do not.
"""

from carpentry_kit.energy.base import (
    CombinedMeter,
    EnergyError,
    EnergyMeter,
    EnergyReading,
    EnergyUnavailable,
    EnergyWindow,
)
from carpentry_kit.energy.carbon import carbon_estimate
from carpentry_kit.energy.select import METHODS, energy_methods, make_meter

__all__ = [
    "METHODS",
    "CombinedMeter",
    "EnergyError",
    "EnergyMeter",
    "EnergyReading",
    "EnergyUnavailable",
    "EnergyWindow",
    "carbon_estimate",
    "energy_methods",
    "make_meter",
]
