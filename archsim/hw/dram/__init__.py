"""DRAM timing model: standards, a bank-state timing engine, an FR-FCFS controller that skips
idle time, a cycle-stepped reference controller, trace replay and a request-level SimPy API.

See docs/dram.md. Entry points:

* :func:`load_standard` / :func:`list_standards`: the presets (``hbm2``, ``ddr4-2400``, ...)
* :func:`replay`: a trace through the model -> :class:`ReplayResult` (``archsim dram replay``)
* :class:`DramSystem`: channels + front end; ``add`` requests, ``run`` or ``advance``
* :class:`DramPort`: the same inside a SimPy :class:`~archsim.engine.Simulation`
* :class:`TimingEngine` / :class:`TimingTable`: the timing engine and its constraint table, to
  extend with new command types
"""

from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.controller import DramSystem
from archsim.hw.dram.device import TimingEngine
from archsim.hw.dram.port import DramPort
from archsim.hw.dram.replay import ReplayResult, replay
from archsim.hw.dram.standard import DramStandard, list_standards, load_standard
from archsim.hw.dram.timing import Command, Constraint, TimingTable, build_table
from archsim.hw.dram.trace import Trace, read_trace

__all__ = ["Command", "Constraint", "ControllerConfig", "DramPort", "DramStandard", "DramSystem", "ReplayResult",
           "TimingEngine", "TimingTable", "Trace", "build_table", "list_standards", "load_standard", "read_trace",
           "replay"]
