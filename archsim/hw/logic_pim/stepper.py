"""The serving step model of a Duplex system (``kind: duplex``): an :class:`XpuUnit` from the
spec's ``xpu`` preset and a :class:`PimDevice` per device, on the
:class:`~archsim.serving.step.StepModel`."""

from __future__ import annotations

from pathlib import Path

from archsim.energy import EnergyTable
from archsim.errors import InputError
from archsim.hw.logic_pim.pim import PimDevice
from archsim.hw.logic_pim.spec import DuplexSpec
from archsim.serving.model_dims import ModelDims
from archsim.serving.plan import Links, Plan, default_devices
from archsim.serving.step import StepModel
from archsim.serving.units import XpuUnit

PRESETS_DIR = Path(__file__).parent / "presets"


def load_xpu(spec: DuplexSpec):
    """The xPU spec named by ``spec.xpu`` (an xpu preset name or spec ``.yaml``)."""
    from archsim.arch import load_arch
    from archsim.hw.xpu.spec import XpuSpec

    x = load_arch(spec.xpu)
    if not isinstance(x, XpuSpec):
        raise InputError(None, "xpu", "an xpu preset or spec (the high-Op/B processor)", spec.xpu)
    return x


def energy_table(spec: DuplexSpec) -> EnergyTable:
    p = Path(spec.energy_table)
    if p.suffix in (".yaml", ".yml"):
        return EnergyTable.load(p)
    preset = PRESETS_DIR / f"{spec.energy_table}.yaml"
    if not preset.exists():
        raise InputError(None, "energy_table", "duplex-energy or an energy table .yaml", spec.energy_table)
    return EnergyTable.load(preset)


def step_model(spec: DuplexSpec, dims: ModelDims, *, devices: int | None = None, routing: str = "random",
               level: str = "analytic", expert_split: str | None = None) -> StepModel:
    """A step model of ``dims`` on ``devices`` (default: the spec's, else
    :func:`~archsim.serving.plan.default_devices`) Duplex devices."""
    xspec = load_xpu(spec)
    xpu = XpuUnit.from_spec(xspec)
    pim = PimDevice.from_spec(spec, level) if spec.has_pim else None
    capacity = spec.capacity_bytes
    n = devices or spec.devices or default_devices(dims.weight_bytes, capacity, spec.devices_per_node)
    plan = Plan.make(dims, n, spec.devices_per_node, expert_split or spec.expert_split)
    links = Links(spec.nvlink_bytes_per_s, spec.nvlink_latency_ns, spec.ib_bytes_per_s, spec.ib_latency_ns)
    return StepModel(dims, plan, xpu, pim, links, energy_table(spec), capacity_bytes=capacity,
                     co_processing=spec.co_processing, pim_ops=spec.pim_op_classes, routing=routing,
                     ways=spec.pim_bundle_ways, name=spec.name)
