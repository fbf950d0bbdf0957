"""Block floating point in hardware: the BFP dot-product unit (bit-exact with
:mod:`archsim.numerics.block`) and the BFP KV-cache option (footprint, traffic, K-sort).

Used by the bit-serial accelerator (``archsim run --arch bitmod --kv-format bfp12``); not an
architecture kind of its own.
"""

from archsim.hw.bfp.dot import BfpDotModel, BfpDotSpec, block_dot, exact_sum
from archsim.hw.bfp.kv import KvLayout, footprint_table, kv_bits_per_token, kv_cache_bytes, kv_format

__all__ = ["BfpDotModel", "BfpDotSpec", "KvLayout", "block_dot", "exact_sum", "footprint_table",
           "kv_bits_per_token", "kv_cache_bytes", "kv_format"]
