"""cocotb bench: rtl/pim_mac against archsim.hw.dram_pim.unit.PimMacUnit, every register and pin on
every cycle (archsim.hw.dram_pim.rtl_stimulus: directed sequences, then seeded random commands).
End checks: the directed results equal the values worked out by hand; every result read out is
within FP32 rounding of the float64 dot product of its bursts; every result is in the register
``mac_pipeline_cycles`` edges after its last MAC, the latency the dram_pim presets' timing uses."""

from __future__ import annotations

import cocotb
import cocotb_io
import numpy as np

from archsim.api import resolve_arch
from archsim.hw.dram_pim.rtl_stimulus import directed, idle, random_cycles, reference_dot
from archsim.hw.dram_pim.unit import MAC, RD, REGISTERS, PimMacUnit
from archsim.rtl.protocol import read_config, write_report
from archsim.rtl.scoreboard import Mismatch, Scoreboard


def pins(inp: dict) -> dict:
    return {"cmd": inp["cmd"], "last": inp["last"], "w": cocotb_io.pack(inp["w"], 16),
            "x": cocotb_io.pack(inp["x"], 16)}


def sample(dut, lanes: int) -> dict:
    v = cocotb_io.value_int
    out = {"out_valid": v(dut.out_valid), "out": v(dut.out), "rd_valid": v(dut.rd_valid), "dout": v(dut.dout),
           "overrun": v(dut.overrun)}
    for name in REGISTERS:
        raw = v(getattr(dut, f"dbg_{name}"))
        out[name] = np.array(cocotb_io.unpack(raw, 32, lanes, signed=False)) if name == "prod" else raw
    return out


@cocotb.test()
async def pim_mac_matches_model(dut):
    cfg = read_config()
    lanes = cfg["params"]["LANES"]
    n_random = 3 * int(cfg.get("min_cycles", 1000))
    seq, want = directed(lanes)
    n_directed = len(seq)
    seq = seq + random_cycles(lanes, int(cfg["seed"]), n_random) + [idle(lanes)] * 4
    pipeline = resolve_arch("pim-gpt").mac_pipeline_cycles
    model = PimMacUnit(lanes)
    board = Scoreboard()
    message, passed = "", False
    reads: list[tuple[int, int]] = []  # (cycle, dout)
    checks = []
    try:
        await cocotb_io.start(dut, pins(idle(lanes)))
        board.check(0, sample(dut, lanes), model.state(), context="after reset")
        outputs, bursts, last_mac = [], [], {}
        for n, inp in enumerate(seq, start=1):
            await cocotb_io.cycle(dut, pins(inp))
            state = model.step(**inp)
            got = sample(dut, lanes)
            board.check(n, got, state, context=f"{'directed' if n <= n_directed else 'random'} cycle, cmd {inp['cmd']}")
            if inp["cmd"] == MAC:
                bursts.append(inp)
                if inp["last"]:
                    outputs.append(bursts)
                    last_mac[len(outputs) - 1] = n
                    bursts = []
            if got["rd_valid"]:
                reads.append((n, got["dout"]))
        # every result enters the register `pipeline` edges after its last MAC (the edge of the MAC
        # itself is the first): the sample after cycle n + pipeline - 1 shows out_valid
        model2 = PimMacUnit(lanes)
        seen = []
        for n, inp in enumerate(seq, start=1):
            before = (model2.s2_valid and model2.s2_last)
            model2.step(**inp)
            if before:
                seen.append(n)
        lasts = sorted(last_mac.values())
        if [n - (pipeline - 1) for n in seen] != lasts:
            raise AssertionError(f"results entered the register at {seen[:5]}..., last MACs at {lasts[:5]}...")
        checks.append(f"{len(lasts)} results, each in the register {pipeline} edges after its last MAC "
                      f"(mac_pipeline_cycles of the presets)")
        # the directed results, worked out by hand
        got_directed = [d for c, d in reads if c <= n_directed]
        if got_directed != want:
            raise AssertionError(f"directed results {[hex(g) for g in got_directed]} != {[hex(w) for w in want]}")
        checks.append(f"{len(want)} directed results equal the values worked out by hand")
        # every result read out, against the float64 dot product of its bursts
        ref = [reference_dot(o) for o in outputs]
        order = _results_in_read_order(seq)
        for (c, d), k in zip(reads, order):
            val = float(np.uint32(d).view(np.float32))
            scale = sum(abs(float(v)) for b in outputs[k] for v in _terms(b))
            if abs(val - ref[k]) > 2.0**-20 * max(scale, 2.0**-100):
                raise AssertionError(f"result {k} read on cycle {c}: {val} vs float64 {ref[k]}")
        checks.append(f"{len(reads)} results read out within FP32 rounding of the float64 dot products")
        passed = True
    except Mismatch as e:
        message = str(e)
        raise
    except Exception as e:
        message = f"bench error: {e}"
        raise
    finally:
        checks.insert(0, f"{board.cycles} cycles: every register and pin equals PimMacUnit "
                         f"({n_directed} directed, {n_random} random)")
        write_report(cfg["report"], passed=passed, cycles_compared=board.cycles, message=message, checks=checks)


def _terms(burst: dict):
    from archsim.hw.dram_pim.unit import bf16_to_f32

    return bf16_to_f32(burst["w"]).astype(np.float64) * bf16_to_f32(burst["x"]).astype(np.float64)


def _results_in_read_order(seq: list[dict]) -> list[int]:
    """Which output each successful read-out returns (the register holds the latest result)."""
    model = PimMacUnit(len(seq[0]["w"]))
    produced = -1
    held = None
    order = []
    for inp in seq:
        done = model.s2_valid and model.s2_last
        was_valid = model.out_valid
        model.step(**inp)
        if inp["cmd"] == RD and was_valid:
            order.append(held)
        if done:
            produced += 1
            held = produced
    return order
