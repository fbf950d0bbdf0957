"""cocotb bench: rtl/mac_pe/mac_pe.v against archsim.hw.systolic.pe.MacPE, every register on every
cycle, for the directed vectors and seeded random inputs (archsim.rtl.cases)."""

from __future__ import annotations

import cocotb
import cocotb_io

from archsim.hw.systolic.pe import REGISTERS, MacPE
from archsim.rtl.cases import mac_pe_directed, mac_pe_random
from archsim.rtl.protocol import read_config, write_report
from archsim.rtl.scoreboard import Mismatch, Scoreboard

SIGNED = {"a": 8, "b": 8}


def sample(dut, acc_bits: int) -> dict[str, int]:
    out = {}
    for name in REGISTERS:
        width = SIGNED.get(name, acc_bits if name == "acc" else 0)
        raw = cocotb_io.value_int(getattr(dut, name))
        out[name] = cocotb_io.unpack(raw, width, 1)[0] if width else raw
    return out


@cocotb.test()
async def mac_pe_matches_model(dut):
    cfg = read_config()
    acc_bits = cfg["params"]["ACC_W"]
    cycles = int(cfg.get("min_cycles", 1000))
    model = MacPE(acc_bits)
    board = Scoreboard()
    vectors = mac_pe_directed(acc_bits) + mac_pe_random(cfg["seed"], 3 * cycles, acc_bits)
    idle = {k: 0 for k in vectors[0]}
    message, passed = "", False
    try:
        await cocotb_io.start(dut, idle)
        board.check(0, sample(dut, acc_bits), model.state(), context="after reset")
        for n, inputs in enumerate(vectors, start=1):
            await cocotb_io.cycle(dut, inputs)
            want = model.step(**inputs)
            board.check(n, sample(dut, acc_bits), want, context=f"inputs {inputs}")
        passed = True
    except Mismatch as e:
        message = str(e)
        raise
    except Exception as e:
        message = f"bench error: {e!r}"
        raise
    finally:
        checks = [f"{board.cycles} cycles: every register equals MacPE ({len(vectors) - 3 * cycles} directed, "
                  f"{3 * cycles} random)"]
        write_report(cfg["report"], passed=passed, cycles_compared=board.cycles, message=message, checks=checks)
