"""DRAM timing model: standards, a bank-state timing engine, an FR-FCFS controller that skips
idle time, a cycle-stepped reference controller, trace replay and a request-level API.

See docs/dram.md. Main entry points: :func:`~archsim.hw.dram.standard.load_standard`,
:class:`~archsim.hw.dram.controller.DramSystem`, :func:`~archsim.hw.dram.replay.replay`.
"""

from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.standard import DramStandard, list_standards, load_standard

__all__ = ["ControllerConfig", "DramStandard", "list_standards", "load_standard"]
