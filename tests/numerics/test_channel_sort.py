"""K-sort: permutation rules, q.k invariance, and the error effect on keys with outlier channels
(Trukhanov & Soloveychik, arXiv 2403.20137: gains at blocks of 32 and 64, none at 128)."""

import numpy as np
import pytest

from archsim.errors import InputError
from archsim.numerics import get_format, inverse, ksort_weights, mse, permutation_from_norms, sort_channels


def test_permutation_within_heads_and_rope_pairs():
    norms = np.array([1.0, 5.0, 2.0, 4.0, 9.0, 0.0, 3.0, 1.0])
    # two heads of 4: head 0 sorted 5,4,2,1 -> [1,3,2,0]; head 1: 9,3,1,0 -> [4,6,7,5]
    assert permutation_from_norms(norms, head_dim=4).tolist() == [1, 3, 2, 0, 4, 6, 7, 5]
    # rope pairs (i, i+2) per head: head 0 pair norms^2 {0: 1+4=5, 1: 25+16=41} -> pair 1 first
    assert permutation_from_norms(norms, head_dim=4, rope=True).tolist() == [1, 0, 3, 2, 4, 5, 6, 7]
    with pytest.raises(InputError):
        permutation_from_norms(norms, head_dim=3)


def test_ksort_weights_keeps_scores_with_gqa():
    rng = np.random.default_rng(0)
    heads, kv_heads, hd, d = 4, 2, 8, 16
    w_q, w_k = rng.standard_normal((heads * hd, d)), rng.standard_normal((kv_heads * hd, d))
    w_k[3] *= 30  # an outlier channel in KV head 0
    x = rng.standard_normal((5, d))
    q2, k2, perm = ksort_weights(w_q, w_k, head_dim=hd, num_heads=heads, num_kv_heads=kv_heads, rope=False)
    assert perm[0] == 3  # the outlier channel moves to the front of its head
    for h in range(heads):
        g = h // (heads // kv_heads)
        ref = (x @ w_q[h * hd:(h + 1) * hd].T) @ (x @ w_k[g * hd:(g + 1) * hd].T).T
        new = (x @ q2[h * hd:(h + 1) * hd].T) @ (x @ k2[g * hd:(g + 1) * hd].T).T
        np.testing.assert_allclose(new, ref, rtol=1e-12, atol=1e-9)


def planted_keys(seed=0, tokens=256, head_dim=128, outliers=(5, 37, 70, 101)):
    rng = np.random.default_rng(seed)
    k = rng.standard_normal((tokens, head_dim))
    k[:, list(outliers)] *= 25.0  # channel-wise outliers, spread over different blocks of 32
    return k


@pytest.mark.parametrize("block", [32, 64])
def test_sorting_lowers_bfp12_error_at_blocks_32_and_64(block):
    k = planted_keys()
    f = get_format("bfp12", block=block)
    ks, perm = sort_channels(k, -1, head_dim=128)
    plain = mse(k, f.fake_quantize(k))
    srt = mse(k, np.take(f.fake_quantize(ks), inverse(perm), axis=-1))
    assert srt < 0.8 * plain


def test_sorting_does_not_change_bfp12_error_at_block_128():
    # block 128 = head_dim: every block holds the whole head before and after the permutation
    k = planted_keys()
    f = get_format("bfp12", block=128)
    ks, perm = sort_channels(k, -1, head_dim=128)
    assert mse(k, np.take(f.fake_quantize(ks), inverse(perm), axis=-1)) == pytest.approx(mse(k, f.fake_quantize(k)))
