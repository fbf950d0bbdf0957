"""What a run returns: per-op rows, totals, the event table, the action counts and the energy.

Everything a report file needs is here, so exporters (``archsim.report``) take a
:class:`RunResult` (or just its ``events``) and never reach back into the models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archsim import SCHEMA_VERSION, __version__
from archsim.engine.actions import ActionCounts
from archsim.engine.events import EventTable


@dataclass
class RunResult:
    """The outcome of simulating one workload on one architecture.

    * ``arch``: the resolved hardware spec (a JSON-able dict, units in key names)
    * ``workload``: name, source file, parameters (batch, phase, ...), op count, MACs
    * ``ops``: one dict per executed op, in execution order (keys in :data:`OP_COLUMNS` plus
      model-specific extras)
    * ``totals``: whole-run figures (``cycles``, ``time_ns``, ``macs``, ``utilization``,
      ``energy_pj``, ...)
    * ``energy_breakdown_pj``: ``{component_class: pJ}``
    """

    arch: dict[str, Any]
    workload: dict[str, Any]
    ops: list[dict[str, Any]]
    totals: dict[str, Any]
    events: EventTable
    actions: ActionCounts
    energy_breakdown_pj: dict[str, float] = field(default_factory=dict)
    energy_table: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    notes: list[str] = field(default_factory=list)
    #: model-specific objects for model-specific exporters (not written to report.json)
    model_data: dict[str, Any] = field(default_factory=dict)

    def to_report(self) -> dict[str, Any]:
        """The ``report.json`` document (deterministic: no timestamps, no host names)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "archsim_version": __version__,
            "seed": self.seed,
            "options": self.options,
            "arch": self.arch,
            "workload": self.workload,
            "totals": self.totals,
            "events_clock_hz": self.events.clock_hz,
            "energy_breakdown_pj": self.energy_breakdown_pj,
            "energy_table": self.energy_table,
            "actions": self.actions.rows(),
            "notes": self.notes,
            "ops": self.ops,
        }


#: columns every per-op row has (models may add more)
OP_COLUMNS = (
    "op",
    "kind",
    "unit",
    "start_cycle",
    "end_cycle",
    "cycles",
    "compute_cycles",
    "stall_cycles",
    "macs",
    "utilization",
    "dram_read_bytes",
    "dram_write_bytes",
    "energy_pj",
    "memoized_from",
)
