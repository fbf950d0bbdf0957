"""Graph builders: CNNs (ResNet, MobileNetV1) and decoder-only LLMs from HuggingFace configs."""

from archsim.workload.builders.cnn import mobilenet_v1, resnet
from archsim.workload.builders.llm import decoder_llm
from archsim.workload.builders.llm_config import LLMConfig, normalize_config

__all__ = ["LLMConfig", "decoder_llm", "mobilenet_v1", "normalize_config", "resnet"]
