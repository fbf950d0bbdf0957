"""Simulation kernel: clock domains, components, links and the event/action recorders."""

from archsim.engine.actions import ActionCounts
from archsim.engine.component import Component
from archsim.engine.events import EventTable
from archsim.engine.link import Link, transfer_cycles
from archsim.engine.sim import ClockDomain, Simulation

__all__ = ["ActionCounts", "ClockDomain", "Component", "EventTable", "Link", "Simulation", "transfer_cycles"]
