"""What a DRAM simulation returns (both the fast controller and the cycle-stepped reference)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: a command record: (cycle, channel, command, rank, bank group, bank, row); -1 for "all" / none
CommandRecord = tuple[int, int, str, int, int, int, int]


@dataclass
class DramRun:
    """Raw outcome of replaying a burst stream.

    * ``total_cycles``: memory cycles until every read's data has returned and every write has
      issued (``max(read done, write issue + 1)``)
    * ``accept_cycle`` / ``done_cycle``: per request, when the controller accepted it and when it
      completed (read: last burst's data returned; write: last burst issued)
    * ``commands``: per channel, ``{command: count}`` over ``[0, total_cycles)``
    * ``row_hits`` / ``row_misses`` / ``row_conflicts``: per channel, ``[reads, writes]`` bursts,
      classified when a burst's first command issues (Ramulator 2's rule)
    * ``active_cycles``: per channel, per rank, cycles with at least one open bank
    * ``log``: every command issued (only when recording was asked for)
    """

    total_cycles: int
    accept_cycle: np.ndarray
    done_cycle: np.ndarray
    commands: list[dict[str, int]]
    row_hits: list[list[int]]
    row_misses: list[list[int]]
    row_conflicts: list[list[int]]
    active_cycles: list[list[int]]
    forwarded_reads: int = 0
    coalesced_writes: int = 0
    log: list[CommandRecord] = field(default_factory=list)

    def command_totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for ch in self.commands:
            for k, v in ch.items():
                out[k] = out.get(k, 0) + v
        return out
