"""cocotb bench: rtl/bfp_dot against archsim.hw.bfp.dot.BfpDotModel, every register and pin on
every cycle, and bit-exact against the numerics: each block's (sum, exponent) equals
archsim.hw.bfp.block_dot of the archsim.numerics BFP quantization (random blocks) or the sums
written out (directed blocks), one edge after the block's last beat."""

from __future__ import annotations

import cocotb
import cocotb_io
import numpy as np

from archsim.hw.bfp.dot import BfpDotModel, BfpDotSpec
from archsim.hw.bfp.rtl_stimulus import beats, directed_pairs, idle_beat, random_pairs
from archsim.rtl.protocol import read_config, write_report
from archsim.rtl.scoreboard import Mismatch, Scoreboard


def pins(inp: dict, p: int) -> dict:
    return {"in_valid": inp["in_valid"], "a_m": cocotb_io.pack(inp["a_m"], p), "b_m": cocotb_io.pack(inp["b_m"], p),
            "a_exp": inp["a_exp"], "b_exp": inp["b_exp"], "last": inp["last"]}


def sample(dut, acc_w: int) -> dict:
    v = cocotb_io.value_int

    def signed(raw, w):
        return cocotb_io.unpack(raw, w, 1)[0]

    return {"out_valid": v(dut.out_valid), "out_sum": signed(v(dut.out_sum), acc_w),
            "out_exp": signed(v(dut.out_exp), 10), "s1_valid": v(dut.dbg_s1_valid), "s1_last": v(dut.dbg_s1_last),
            "s1_sum": signed(v(dut.dbg_s1_sum), acc_w), "s1_exp": signed(v(dut.dbg_s1_exp), 10),
            "acc": signed(v(dut.dbg_acc), acc_w), "acc_exp": signed(v(dut.dbg_acc_exp), 10),
            "first": v(dut.dbg_first)}


@cocotb.test()
async def bfp_dot_matches_model(dut):
    cfg = read_config()
    prm = cfg["params"]
    p, lanes, block = prm["P"], prm["LANES"], prm["BLOCK"]
    spec = BfpDotSpec(mantissa_bits=p, block_size=block, lanes=lanes)
    acc_w = spec.accumulator_bits
    seed = int(cfg["seed"])
    min_cycles = int(cfg.get("min_cycles", 1000))
    rng = np.random.default_rng([seed, 9])
    pairs = directed_pairs(p, lanes, block)
    n_beats = sum(len(beats(x, p, lanes)) for x in pairs)
    while n_beats < 3 * min_cycles:  # three segments of min_cycles, as the other blocks
        more = random_pairs(p, lanes, block, seed + len(pairs), 16)
        pairs += more
        n_beats += sum(len(beats(x, p, lanes)) for x in more)
    queue, context, last_of = [], [], {}
    for bi, pair in enumerate(pairs):
        for k, b in enumerate(beats(pair, p, lanes)):
            while bi >= 5 and rng.random() < 0.2:
                bub = idle_beat(lanes)
                bub.update(a_m=[int(x) for x in rng.integers(0, 1 << p, lanes)], a_exp=int(rng.integers(0, 255)),
                           last=int(rng.integers(0, 2)))
                queue.append(bub)
                context.append(f"bubble before block {bi}")
            queue.append(b)
            context.append(f"block {bi} beat {k}")
            if b["last"]:
                last_of[len(queue) - 1] = bi
    model = BfpDotModel(spec)
    board = Scoreboard()
    message, passed, outs, last_cycle = "", False, [], {}
    try:
        await cocotb_io.start(dut, pins(idle_beat(lanes), p))
        for n, inp in enumerate(queue + [idle_beat(lanes)] * 3, start=1):
            await cocotb_io.cycle(dut, pins(inp, p))
            want = model.step(**inp)
            got = sample(dut, acc_w)
            board.check(n, got, want, context=context[n - 1] if n <= len(queue) else "drain")
            if n - 1 in last_of:
                last_cycle[last_of[n - 1]] = n
            if got["out_valid"]:
                outs.append((n, got["out_sum"], got["out_exp"]))
        if len(outs) != len(pairs):
            raise AssertionError(f"{len(outs)} results for {len(pairs)} blocks")
        for bi, (pair, (n, s, e)) in enumerate(zip(pairs, outs)):
            if (s, e) != (pair.expected_sum, pair.expected_exp):
                raise AssertionError(f"block {bi}: rtl (sum, exp) = ({s}, {e}) != numerics "
                                     f"({pair.expected_sum}, {pair.expected_exp})")
            if n != last_cycle[bi] + 1:
                raise AssertionError(f"block {bi}: result on cycle {n}, last beat on {last_cycle[bi]}")
        passed = True
    except Mismatch as e:
        message = str(e)
        raise
    except Exception as e:
        message = f"bench error: {e}"
        raise
    finally:
        checks = [f"{board.cycles} cycles: every register and pin equals BfpDotModel",
                  f"{len(outs)} block results bit-exact with archsim.numerics / block_dot, one edge after the last beat"]
        write_report(cfg["report"], passed=passed, cycles_compared=board.cycles, message=message, checks=checks)
