"""BitMoD's evaluation setup (HPCA'25 §V) as a script-sized API: the six LLMs, the accelerator
configurations compared, and the discriminative / generative speed-ups.

* models: OPT-1.3B, Phi-2, Yi-6B, Llama-2-7B, Llama-2-13B, Llama-3-8B; batch 1, context 256;
* discriminative = one 256-token prefill; generative = prefill + 20 decode steps, each at
  context 256 (the artifact's ``speedup_plot.ipynb``: ``num_token_generate = 20``);
* configurations: FP16 (bit-parallel), BitMoD lossless (INT6), BitMoD lossy (4-bit BitMoD type for
  discriminative, 3-bit for generative), ANT and OliVe with the per-model stored bits of the
  artifact's ``test_ant.py`` / ``test_olive.py``;
* the paper's averages are arithmetic means over the six models of per-model ratios:
  ``FP16 cycles / cycles`` per configuration, and ``baseline cycles / BitMoD-lossy cycles`` for the
  speed-ups over ANT and OliVe (the headline 1.69x / 1.48x is the mean of the discriminative and
  generative figures).

Phi-2 (``model_type: phi``) is not a family the workload importer reads yet; its decoder is
built from GPT-2-family keys with Phi-2's published dimensions, which gives the same GEMMs
(q/k/v/dense 2560x2560, fc1 2560->10240, fc2 10240->2560, untied lm_head 51200x2560, biases
everywhere); its parallel attention/MLP residual and partial rotary embedding change no GEMM.
"""

from __future__ import annotations

from dataclasses import dataclass

from archsim.api import resolve_arch
from archsim.workload import decoder_llm, load_workload
from archsim.workload.graph import Graph

MODELS = ("opt-1.3b", "phi-2", "yi-6b", "llama-2-7b", "llama-2-13b", "llama-3-8b")
CONTEXT = 256
DECODE_TOKENS = 20

#: microsoft/phi-2 config.json dimensions (https://huggingface.co/microsoft/phi-2) in GPT-2 keys
PHI2_AS_GPT2 = {
    "_archsim_source": "https://huggingface.co/microsoft/phi-2/blob/main/config.json (dimensions)",
    "_name_or_path": "microsoft/phi-2", "model_type": "gpt2", "n_embd": 2560, "n_head": 32, "n_layer": 32,
    "n_inner": 10240, "n_positions": 2048, "vocab_size": 51200, "activation_function": "gelu_new",
    "layer_norm_epsilon": 1e-05, "tie_word_embeddings": False, "torch_dtype": "float16",
}

#: stored bits per weight of the ANT / OliVe baselines (artifact bitmod_sim/test_ant.py, test_olive.py)
ANT_WEIGHT_BITS = {"opt-1.3b": 5, "phi-2": 5, "yi-6b": 5.25, "llama-2-7b": 5, "llama-2-13b": 4, "llama-3-8b": 5}
OLIVE_WEIGHT_BITS = {"opt-1.3b": 4, "phi-2": 4, "yi-6b": 4, "llama-2-7b": 4, "llama-2-13b": 4, "llama-3-8b": 4.5}


@dataclass(frozen=True)
class Config:
    """One compared accelerator: a preset and its spec overrides per phase."""

    name: str
    preset: str
    prefill: dict
    decode: dict
    per_model_bits: dict | None = None

    def spec(self, phase: str, model: str, convention: str):
        over = dict(self.prefill if phase == "prefill" else self.decode)
        if self.per_model_bits:
            over["weight_bits"] = float(self.per_model_bits[model])
        return resolve_arch(self.preset).replace(convention=convention, **over)


CONFIGS = (
    Config("fp16", "fp16", {}, {}),
    Config("bitmod-lossless", "bitmod", {"weight_format": "int6"}, {"weight_format": "int6"}),
    Config("ant", "ant", {}, {}, ANT_WEIGHT_BITS),
    Config("olive", "olive", {}, {}, OLIVE_WEIGHT_BITS),
    Config("bitmod-lossy", "bitmod", {"weight_format": "bitmod-fp4"}, {"weight_format": "bitmod-fp3"}),
)


def workload(model: str, phase: str, seq_len: int = CONTEXT, logits: str = "all") -> Graph:
    """The model's prefill (``seq_len`` prompt tokens) or decode step (context ``seq_len``).
    ``logits="all"`` computes the LM head at every prompt position, as scoring a discriminative
    task needs (and as the artifact does); ``"last"`` only at the last one (generation)."""
    if model == "phi-2":
        return decoder_llm(PHI2_AS_GPT2, phase=phase, seq_len=seq_len, name="phi-2", logits=logits)
    return load_workload(model, phase=phase, seq_len=seq_len, logits=logits)


def cycles(config: Config, model: str, phase: str, *, convention: str = "bitmod-sim", level: str = "analytic",
           seq_len: int = CONTEXT, logits: str = "all") -> int:
    from archsim.hw.bitserial.model import simulate

    res = simulate(workload(model, phase, seq_len, logits), config.spec(phase, model, convention), level=level,
                   record_events=False)
    return int(res.totals["cycles"])


def cycle_table(*, convention: str = "bitmod-sim", models=MODELS, configs=CONFIGS, logits: str = "all") -> dict:
    """``{config: {"prefill": [...], "decode": [...]}}`` cycles per model (in ``models`` order)."""
    return {c.name: {ph: [cycles(c, m, ph, convention=convention, logits=logits) for m in models]
                     for ph in ("prefill", "decode")} for c in configs}


def speedups(table: dict, decode_tokens: int = DECODE_TOKENS) -> dict:
    """The paper's averages from a :func:`cycle_table`: per configuration the mean over models of
    ``FP16 / config`` for discriminative (prefill) and generative (prefill + ``decode_tokens``
    decode steps) runs, and the mean of ``baseline / BitMoD-lossy`` for ANT and OliVe."""
    fp = table["fp16"]

    def gen(t, i):
        return t["prefill"][i] + decode_tokens * t["decode"][i]

    n = len(fp["prefill"])
    out: dict = {}
    for name, t in table.items():
        disc = [fp["prefill"][i] / t["prefill"][i] for i in range(n)]
        gen_ = [gen(fp, i) / gen(t, i) for i in range(n)]
        out[name] = {"disc": disc, "gen": gen_, "disc_mean": sum(disc) / n, "gen_mean": sum(gen_) / n}
    lossy = table["bitmod-lossy"]
    for base in ("ant", "olive"):
        t = table[base]
        d = sum(t["prefill"][i] / lossy["prefill"][i] for i in range(n)) / n
        g = sum(gen(t, i) / gen(lossy, i) for i in range(n)) / n
        out[f"lossy_over_{base}"] = {"disc": d, "gen": g, "mean": (d + g) / 2}
    return out
