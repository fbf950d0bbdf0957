"""Roofline processor (GPU / CPU baselines) with datasheet presets."""

from archsim.arch.registry import ArchPlugin
from archsim.hw.xpu.spec import XpuSpec


def _simulate(graph, spec, **kw):
    from archsim.hw.xpu.model import simulate

    return simulate(graph, spec, **kw)


def _step_model(spec, dims, **kw):
    """Serving step model (``archsim serve``): see :mod:`archsim.hw.xpu.serving`."""
    from archsim.hw.xpu.serving import step_model

    return step_model(spec, dims, **kw)


PLUGIN = ArchPlugin(kind="xpu", spec_cls=XpuSpec, simulate=_simulate, description="roofline GPU/CPU baseline",
                    extra={"step_model": _step_model})
