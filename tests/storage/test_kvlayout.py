"""KV-cache arithmetic: bytes per token, pages per attention task, page flushes, the split over
drives and the sparse selection, all derived by hand."""

from fractions import Fraction

import pytest

from archsim.api import resolve_arch
from archsim.errors import InputError
from archsim.hw.storage.kvlayout import (
    decode_shape,
    drive_shares,
    flush_pages_per_pair,
    sparse_selection,
    split_even,
)
from archsim.workload import load_workload


def shape(model="opt-13b", batch=64, seq_len=1536):
    return decode_shape(load_workload(model, phase="decode", batch=batch, seq_len=seq_len))


def test_opt13b_kv_bytes_per_token_is_0_78_mib():
    s = shape()
    # 2 (K, V) x 40 layers x 40 heads x 128 dims x 2 B (InstInfer Sec. VI-F)
    assert s.kv_bytes_per_token == 2 * 40 * 40 * 128 * 2 == 819_200
    assert s.kv_bytes_per_token / 2**20 == pytest.approx(0.78125)
    assert (s.batch, s.context, s.layers, s.heads, s.kv_heads, s.head_dim) == (64, 1536, 40, 40, 40, 128)
    assert s.kv_cache_bytes == 64 * 1536 * 819_200


def test_gqa_kv_bytes_per_token():
    s = shape("llama-3-8b", batch=2, seq_len=100)
    assert s.kv_bytes_per_token == 2 * 32 * 8 * 128 * 2 == 131_072
    assert s.group == 4


def test_pages_per_task_and_flushes():
    spec = resolve_arch("instinfer")
    s = shape()
    assert s.tokens_per_page(spec) == 4096 // (128 * 2) == 16
    # 1535 cached tokens -> 95 full pages per K (and per V); the 15 newest wait in drive DRAM
    assert s.flushed_pages(spec) == 95
    # token 1536 completes page 96: K and V pages are programmed this step
    assert flush_pages_per_pair(spec, s) == 2
    assert flush_pages_per_pair(spec, shape(seq_len=1537)) == 0
    # sparse adds the channel-indexed K copy: 2 dims x 1024 tokens per page, full at 2048
    sp = spec.replace(sparse=True)
    assert flush_pages_per_pair(sp, shape(seq_len=2048)) == 2 + 128 // 2


def test_drive_split_by_heads_and_by_batch():
    spec = resolve_arch("instinfer")
    s = shape()
    assert split_even(40, 3) == [14, 13, 13]
    shares = drive_shares(spec.replace(drives=3), s, 64)
    assert [(d.sequences, d.kv_heads, d.tasks) for d in shares] == [(64, 14, 896), (64, 13, 832), (64, 13, 832)]
    shares = drive_shares(spec.replace(drives=20), s, 32)
    assert {d.kv_heads for d in shares} == {2}
    with pytest.raises(InputError, match="at most 40 drives"):
        drive_shares(spec.replace(drives=41), s, 64)
    shares = drive_shares(spec.replace(drives=3, drive_split="batch"), s, 64)
    assert [(d.sequences, d.kv_heads) for d in shares] == [(22, 40), (21, 40), (21, 40)]


def test_sparse_selection_by_hand():
    spec = resolve_arch("instinfer")
    s = shape()
    sel = sparse_selection(spec, s)
    # r = 128/8 = 16 channels among 64 groups of 2: P(group missed) = (112/128)(111/127)
    groups = 64 * (1 - Fraction(112 * 111, 128 * 127))
    assert groups == pytest.approx(15.05, abs=0.01)
    # 1535 cached tokens / 1024 tokens per channel page = 1 full page per group -> 16 pages
    assert (sel.channels, sel.channel_pages) == (16, 16)
    # k = 1536/16 = 96 tokens = 6 blocks of 16 of 96 blocks; each of the 95 flash pages is one block:
    # touched = 95 x 6/96 = 5.94 -> 6 pages of K and 6 of V
    assert (sel.tokens, sel.token_pages) == (96, 12)
    # scattered tokens (blocks of 1): a page is missed with probability prod (1440 - i)/(1536 - i)
    sc = sparse_selection(spec.replace(sparse_block_tokens=1), s)
    miss = 1.0
    for i in range(16):
        miss *= (1536 - 96 - i) / (1536 - i)
    assert sc.token_pages == 2 * -(-95 * (1 - miss) // 1)
    assert sc.token_pages > 0.6 * 2 * 95
    with pytest.raises(InputError, match="divisor"):
        sparse_selection(spec.replace(sparse_block_tokens=3), s)


def test_prefill_graph_is_rejected():
    with pytest.raises(InputError, match="decode"):
        decode_shape(load_workload("opt-125m", phase="prefill", batch=1, seq_len=32))

