"""cocotb bench: rtl/bitserial_pe against archsim.hw.bitserial.pe.BitSerialPEPorts, every register
and pin on every cycle. Stimulus (archsim.hw.bitserial.rtl_stimulus): directed groups back to back
(INT8/6/4/3, FP3/FP4 with BitMoD's special values, FP16 extremes, groups shorter than the
dequantizer), then seeded random groups with random bubbles. End checks: every group result on
the output pins equals the exact integer reference, and the directed groups' output cycles equal
the closed form c_0 + sum max(c_j, S) + 2 + S (BitMoD §IV-B)."""

from __future__ import annotations

from dataclasses import replace

import cocotb
import cocotb_io
import numpy as np

from archsim.hw.bitserial.pe import LANES, BitSerialPEPorts
from archsim.hw.bitserial.rtl_stimulus import (
    beats,
    closed_form_out_cycles,
    directed_groups,
    idle_beat,
    random_groups,
)
from archsim.rtl.protocol import read_config, write_report
from archsim.rtl.scoreboard import Mismatch, Scoreboard

LANE_BITS = {"r1_sign": 1, "r1_man": 11, "r1_shift": 6}


def pins(inp: dict) -> dict:
    return {"in_valid": inp["in_valid"], "act": cocotb_io.pack(inp["act"], 16),
            "t_sign": cocotb_io.pack(inp["t_sign"], 1), "t_exp": cocotb_io.pack(inp["t_exp"], 2),
            "t_man": cocotb_io.pack(inp["t_man"], 1), "bsig": inp["bsig"], "group_end": inp["group_end"],
            "scale": inp["scale"]}


def sample(dut, scale_bits: int) -> dict:
    v = cocotb_io.value_int
    out_w = 64 + scale_bits

    def signed(raw, w):
        return cocotb_io.unpack(raw, w, 1)[0]

    out = {"ready": v(dut.ready), "out_valid": v(dut.out_valid), "out_value": signed(v(dut.out_value), out_w)}
    for name in ("r1_valid", "r1_end", "r1_scale", "r2_valid", "r2_end", "r2_scale", "dq_cnt", "dq_s"):
        out[name] = v(getattr(dut, f"dbg_{name}"))
    for name, w in LANE_BITS.items():
        out[name] = np.array(cocotb_io.unpack(v(getattr(dut, f"dbg_{name}")), w, LANES, signed=False), np.int64)
    for name in ("r2_sum", "acc", "dq_p"):
        out[name] = signed(v(getattr(dut, f"dbg_{name}")), 64)
    out["dq_acc"] = signed(v(dut.dbg_dq_acc), out_w)
    return out


@cocotb.test()
async def bitserial_pe_matches_model(dut):
    cfg = read_config()
    p = cfg["params"]
    scale_bits, dequant = p["SCALE_BITS"], bool(p["DEQUANT"])
    seed = int(cfg["seed"])
    min_cycles = int(cfg.get("min_cycles", 1000))
    model = BitSerialPEPorts(scale_bits=scale_bits, dequant=dequant)
    board = Scoreboard()
    rng = np.random.default_rng([seed, 3])
    directed = directed_groups()
    # scale codes wider than the unit's scale register are cut to its width
    directed = [replace(g, scale=g.scale % (1 << scale_bits)) for g in directed]
    # three times min_cycles of random groups (as the other blocks: three segments of min_cycles)
    groups = directed + [replace(g, scale=g.scale % (1 << scale_bits)) for g in random_groups(seed, 3 * min_cycles)]
    queue, context = [], []
    for gi, g in enumerate(groups):
        for k, b in enumerate(beats(g)):
            if gi >= len(directed):
                while rng.random() < 0.2:  # a bubble with random garbage on the data pins
                    bub = idle_beat()
                    bub.update(act=[int(x) for x in rng.integers(0, 0x7C00, LANES)], bsig=int(rng.integers(-1, 7)),
                               group_end=int(rng.integers(0, 2)), scale=int(rng.integers(0, 1 << scale_bits)))
                    queue.append(bub)
                    context.append(f"bubble before group {gi} beat {k}")
            queue.append(b)
            context.append(f"group {gi} beat {k} ({'INT' + str(g.bits) if g.bits else 'FP'})")
    expected = [g.expected(dequant) for g in groups]
    message, passed, outs, n = "", False, [], 0
    try:
        await cocotb_io.start(dut, pins(idle_beat()))
        i, ready = 0, 1
        while len(outs) < len(groups):
            n += 1
            inp = queue[i] if i < len(queue) else idle_beat()
            ctx = context[i] if i < len(queue) else "drain"
            await cocotb_io.cycle(dut, pins(inp))
            want = model.step(**inp)
            got = sample(dut, scale_bits)
            board.check(n, got, want, context=ctx)
            if i < len(queue) and (ready or not inp["in_valid"]):
                i += 1
            ready = want["ready"]
            if got["out_valid"]:
                outs.append((n, got["out_value"]))
            if n > 50 * (len(queue) + 100):
                raise AssertionError(f"cycle {n}: the PE stopped producing results ({len(outs)} of {len(groups)})")
        if [val for _, val in outs] != expected:
            bad = next(j for j, (o, e) in enumerate(zip(outs, expected)) if o[1] != e)
            raise AssertionError(f"group {bad}: rtl result {outs[bad][1]} != exact reference {expected[bad]}")
        want_cycles = closed_form_out_cycles(directed, scale_bits, dequant)
        got_cycles = [c for c, _ in outs[: len(directed)]]
        if got_cycles != want_cycles:
            raise AssertionError(f"directed groups: output cycles {got_cycles} != closed form {want_cycles}")
        passed = True
    except Mismatch as e:
        message = str(e)
        raise
    except Exception as e:
        message = f"bench error: {e}"
        raise
    finally:
        checks = [f"{board.cycles} cycles: every register and pin equals BitSerialPEPorts",
                  f"{len(outs)} group results equal the exact reference ({len(directed)} directed, "
                  f"{len(groups) - len(directed)} random)",
                  "directed output cycles equal c_0 + sum max(c_j, S) + 2 + S"]
        write_report(cfg["report"], passed=passed, cycles_compared=board.cycles, message=message, checks=checks)
