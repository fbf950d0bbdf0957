"""Controller options shared by the fast model and the cycle-stepped reference."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from archsim.errors import InputError

REFRESH = ("all-bank", "per-bank", "none")
ROW_POLICIES = ("open", "closed")


@dataclass(frozen=True)
class ControllerConfig:
    """FR-FCFS controller options (Ramulator 2 ``GenericDDR`` / ``HBM12`` defaults).

    * ``read_buffer_size`` / ``write_buffer_size``: burst entries per channel (32 each)
    * ``write_low_watermark`` / ``write_high_watermark``: write-drain hysteresis as fractions of
      the write buffer (0.2 / 0.8): drain writes when the write buffer is above the high mark or
      there are no reads; go back to reads below the low mark
    * ``refresh``: ``all-bank`` (one REFab per rank / pseudo-channel every tREFI), ``per-bank``
      (one REFpb every tREFIpb, banks round robin) or ``none``
    * ``row_policy``: ``open`` or ``closed`` (Ramulator's ClosedCAP: after ``closed_cap`` column
      accesses to a row, the next access auto-precharges or an explicit PRE is queued)
    * ``accepts_per_cycle``: requests the front end hands to the controllers per memory cycle
    * ``request_bytes``: size of one trace request (split into native bursts)
    """

    read_buffer_size: int = 32
    write_buffer_size: int = 32
    write_low_watermark: float = 0.2
    write_high_watermark: float = 0.8
    refresh: str = "all-bank"
    row_policy: str = "open"
    closed_cap: int = 1
    accepts_per_cycle: int = 4
    request_bytes: int = 64

    def __post_init__(self) -> None:
        for f in ("read_buffer_size", "write_buffer_size", "closed_cap", "accepts_per_cycle", "request_bytes"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"--{f.replace('_', '-')}", None, "a positive integer", v)
        # a low mark of 0 never ends a drain: with the write buffer empty, reads would starve
        if not 0 < self.write_low_watermark <= self.write_high_watermark <= 1:
            raise InputError("--write-watermarks", None, "0 < low <= high <= 1",
                             (self.write_low_watermark, self.write_high_watermark))
        if self.refresh not in REFRESH:
            raise InputError("--refresh", None, f"one of {list(REFRESH)}", self.refresh)
        if self.row_policy not in ROW_POLICIES:
            raise InputError("--row-policy", None, f"one of {list(ROW_POLICIES)}", self.row_policy)

    def replace(self, **changes: Any) -> ControllerConfig:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
