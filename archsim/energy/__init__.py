"""Energy: action counts priced by a versioned EnergyTable (pJ per action)."""

from archsim.energy.table import EnergyEntry, EnergyTable

__all__ = ["EnergyEntry", "EnergyTable"]
