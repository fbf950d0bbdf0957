"""cocotb bench: rtl/systolic_array against ArrayPorts (PEArray behind the array's pins).

For every GEMM tile of the suite (archsim.rtl.cases: directed and seeded random tiles, OS, WS and
IS), fold after fold with random idle gaps in between: on every cycle the pins (busy, done,
out_valid, and out_row/out_data where valid) and every PE register equal the model's; the tile's
product assembled from the RTL's output pins equals numpy's; and the RTL's cycles per tile equal
the closed form and the analytic physical model's (archsim.rtl.levels.analytic).
"""

from __future__ import annotations

import cocotb
import cocotb_io
import numpy as np

from archsim.hw.systolic.ports import PE_REGISTERS, ArrayPorts, Beat, place_row, tile_folds
from archsim.rtl.cases import DATAFLOWS, gemm_tile_cases
from archsim.rtl.levels import analytic
from archsim.rtl.protocol import read_config, write_report
from archsim.rtl.scoreboard import Mismatch, Scoreboard

BITS = {"a": 8, "a_v": 1, "a_last": 1, "b": 8, "b_v": 1}


def signal_name(key: str, index: tuple[int, ...]) -> str:
    if key in PE_REGISTERS:
        return f"pe[{index[0]}][{index[1]}].{key}"
    return key + "".join(f"[{i}]" for i in index)


def beat_inputs(beat: Beat, rows: int, cols: int) -> dict[str, int]:
    return {"mode": beat.mode, "in_start": int(beat.start), "in_load": int(beat.load), "in_valid": int(beat.valid),
            "in_last": int(beat.last), "a_in": cocotb_io.pack(beat.a or (0,) * rows, 8),
            "b_in": cocotb_io.pack(beat.b or (0,) * cols, 8)}


def sample(dut, rows: int, cols: int, acc_bits: int) -> dict:
    v = cocotb_io.value_int
    out = {"busy": v(dut.busy), "done": v(dut.done), "out_valid": v(dut.out_valid), "out_row": v(dut.out_row),
           "out_data": np.array(cocotb_io.unpack(v(dut.out_data), acc_bits, cols), np.int64)}
    for name in PE_REGISTERS:
        width = BITS.get(name, acc_bits)
        vals = cocotb_io.unpack(v(getattr(dut, f"dbg_{name}")), width, rows * cols, signed=width > 1)
        out[name] = np.array(vals, np.int64).reshape(rows, cols)
    return out


class TileError(AssertionError):
    pass


@cocotb.test()
async def systolic_array_matches_model(dut):
    cfg = read_config()
    p = cfg["params"]
    R, C, W = p["ROWS"], p["COLS"], p["ACC_W"]
    seed = int(cfg["seed"])
    cases = gemm_tile_cases(R, C, seed=seed, min_cycles=int(cfg.get("min_cycles", 1000)),
                            dataflows=tuple(cfg.get("dataflows", DATAFLOWS)))
    gaps = np.random.default_rng([seed, R, C, 7])
    model = ArrayPorts(R, C)
    board = Scoreboard(signal_name)
    cycle, tiles, folds, per_df = 0, 0, 0, dict.fromkeys(DATAFLOWS, 0)
    message, passed = "", False

    async def step(context: str) -> tuple[dict, dict]:
        nonlocal cycle
        beat, want = model.step()
        await cocotb_io.cycle(dut, beat_inputs(beat, R, C))
        cycle += 1
        got = sample(dut, R, C, W)
        board.check(cycle, got, want, context)
        return got, want

    try:
        await cocotb_io.start(dut, beat_inputs(Beat(), R, C))
        reset_state = {"busy": 0, "done": 0, "out_valid": 0, **model.registers()}
        board.check(0, sample(dut, R, C, W), reset_state, context="after reset")
        for case in cases:
            out = np.zeros((case.m, case.n), np.int64)
            tile_cycles = 0
            for fold in tile_folds(case.a, case.b, case.dataflow, R, C):
                model.start_fold(case.dataflow, fold.stream, fold.stationary_or_b, fold.real_rows, fold.real_cols)
                context = f"tile {case.name}, fold {fold.index}"
                n = 0
                while True:
                    got, _ = await step(context)
                    n += 1
                    if got["out_valid"]:
                        place_row(out, case.dataflow, fold, got["out_row"], got["out_data"])
                    if got["done"]:
                        break
                tile_cycles += n
                folds += 1
                for _ in range(int(gaps.choice([0, 0, 0, 1, 2]))):  # idle: the array holds
                    await step(f"idle after {context}")
            bad = np.argwhere(out != case.expected_out)
            if len(bad):
                i, j = (int(x) for x in bad[0])
                raise TileError(f"tile {case.name}: out[{i}][{j}]: rtl={out[i, j]} numpy={case.expected_out[i, j]}")
            ana = analytic(case).cycles
            if not tile_cycles == case.expected_cycles == ana:
                raise TileError(f"tile {case.name}: cycles rtl={tile_cycles} closed form={case.expected_cycles} "
                                f"analytic={ana}")
            tiles += 1
            per_df[case.dataflow] += tile_cycles
        passed = True
    except (Mismatch, TileError) as e:
        message = str(e)
        raise
    except Exception as e:
        message = f"bench error: {e!r}"
        raise
    finally:
        done_dfs = ", ".join(f"{df.upper()} {n}" for df, n in per_df.items() if n)
        checks = [f"{board.cycles} cycles: pins and all {R * C} PEs' registers equal ArrayPorts (PEArray)",
                  f"{tiles} of {len(cases)} tiles ({folds} folds): product equals numpy's matmul",
                  f"cycles per tile equal folds * (T + 2R + C - 2) and the analytic model ({done_dfs})"]
        write_report(cfg["report"], passed=passed, cycles_compared=board.cycles, message=message, checks=checks,
                     tiles=tiles, folds=folds, cycles_per_dataflow=per_df)
