"""Workloads: the operator-graph IR, builders (CNNs, decoder LLMs), importers and the model zoo."""

from archsim.workload.builders.cnn import mobilenet_v1, resnet
from archsim.workload.builders.llm import decoder_llm
from archsim.workload.graph import Graph, Op, OpKind, Tensor
from archsim.workload.importers.scalesim_csv import export_scalesim_csv, read_scalesim_csv
from archsim.workload.zoo import list_models, load_workload

__all__ = [
    "Graph",
    "Op",
    "OpKind",
    "Tensor",
    "decoder_llm",
    "export_scalesim_csv",
    "list_models",
    "load_workload",
    "mobilenet_v1",
    "read_scalesim_csv",
    "resnet",
]
