"""Continuous-batching LLM serving on any architecture kind with a step model: request streams
(:mod:`~archsim.serving.requests`), the iteration-level scheduler
(:mod:`~archsim.serving.scheduler`), the multi-device step model (:mod:`~archsim.serving.step`,
:mod:`~archsim.serving.plan`) and :func:`serve`. See docs/logic_pim.md."""

from archsim.serving.api import ServeResult, serve

__all__ = ["ServeResult", "serve"]
