"""Roofline processor (GPU / CPU baselines) with datasheet presets."""

from archsim.arch.registry import ArchPlugin
from archsim.hw.xpu.spec import XpuSpec


def _run_arguments(g) -> None:
    from archsim.workload.generation import add_tokens_argument

    add_tokens_argument(g)  # --tokens N: a generation of N decode steps (archsim/workload/generation.py)


def _simulate(graph, spec, **kw):
    from archsim.hw.xpu.model import simulate

    return simulate(graph, spec, **kw)


def _step_model(spec, dims, **kw):
    """Serving step model (``archsim serve``): see :mod:`archsim.hw.xpu.serving`."""
    from archsim.hw.xpu.serving import step_model

    return step_model(spec, dims, **kw)


PLUGIN = ArchPlugin(kind="xpu", spec_cls=XpuSpec, simulate=_simulate, description="roofline GPU/CPU baseline",
                    add_run_arguments=_run_arguments, options=("tokens",), extra={"step_model": _step_model})
