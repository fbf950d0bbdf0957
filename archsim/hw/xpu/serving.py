"""The serving step model of roofline devices (``kind: xpu``): the GPU system Duplex compares
against (Sec. III): ``devices`` xPUs, tensor-parallel within a node, experts expert-parallel."""

from __future__ import annotations

from archsim.hw.xpu.spec import XpuSpec
from archsim.serving.model_dims import ModelDims
from archsim.serving.plan import DEVICES_PER_NODE, Links, Plan, default_devices
from archsim.serving.step import StepModel
from archsim.serving.units import XpuUnit, roofline_energy_table


def step_model(spec: XpuSpec, dims: ModelDims, *, devices: int | None = None, routing: str = "random",
               level: str = "analytic", expert_split: str | None = None,
               devices_per_node: int = DEVICES_PER_NODE) -> StepModel:
    """A step model of ``dims`` on ``devices`` xPUs (default: the fewest, a power of two, with
    twice the weights in memory; see :func:`~archsim.serving.plan.default_devices`)."""
    capacity = spec.mem_capacity_bytes
    n = devices or default_devices(dims.weight_bytes, capacity, devices_per_node)
    plan = Plan.make(dims, n, devices_per_node, expert_split or "ep")
    table = roofline_energy_table(spec.name, spec.pj_per_flop, spec.pj_per_byte, spec.source or spec.name)
    return StepModel(dims, plan, XpuUnit.from_spec(spec), None, Links(), table, capacity_bytes=capacity,
                     routing=routing, name=spec.name)
