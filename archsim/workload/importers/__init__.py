"""Importers: HuggingFace config.json, SCALE-Sim topology CSV, ONNX (optional ``onnx`` extra,
imported lazily from :mod:`archsim.workload.importers.onnx_import`)."""

from archsim.workload.importers.hf_config import import_hf_config, load_hf_config, read_hf_config
from archsim.workload.importers.scalesim_csv import export_scalesim_csv, parse_scalesim_csv, read_scalesim_csv

__all__ = [
    "export_scalesim_csv",
    "import_hf_config",
    "load_hf_config",
    "parse_scalesim_csv",
    "read_hf_config",
    "read_scalesim_csv",
]
