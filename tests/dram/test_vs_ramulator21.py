"""archsim against Ramulator 2.1, the simulator whose controller semantics archsim follows, on the
traces of tests/dram/peer_traces.py (runs recorded in tests/golden/ramulator21; the build is
described in the README there): DDR4-2400 under RoBaRaCoCh and ChRaBaRoCo, HBM2 (two
pseudo-channels, a row and a column command bus, 32 B bursts, refresh on) and DDR5-4800, six
traces each. With archsim's own presets and defaults (32-entry read and write buffers, 0.2 / 0.8
watermarks, FR-FCFS, open page, all-bank refresh) and one request accepted per cycle as Ramulator's
LoadStoreTrace sends them, every run is equal command for command: each ACT, PRE, PREA, RD, WR and
REFab at the same cycle, rank or pseudo-channel, bank group, bank and row, the same end cycle and
the same counts."""

import json
from pathlib import Path

import pytest

from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.replay import replay

from .peer_traces import MAPPING, drained_cycles, recorded_trace, stream_digest

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "ramulator21" / "results.json").read_text())


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: f"{c['standard']}-{c['trace']}-{c['mapping']}")
def test_equals_ramulator21_command_for_command(case, tmp_path):
    ram = case["ramulator21"]
    _, path = recorded_trace(tmp_path, case["standard"], case["trace"], case["trace_sha256"])
    # one trace line is one native burst (HBM2: 32 B)
    cfg = ControllerConfig(accepts_per_cycle=1, request_bytes=32 if case["standard"] == "hbm2" else 64)
    res = replay(case["standard"], path, trace_format="ramulator", mapping=MAPPING[case["mapping"]], channels=1,
                 config=cfg, record_commands=True)
    cmds = res.run.command_totals()
    assert {k: cmds[v] for k, v in (("ACT", "ACT"), ("PRE", "PRE"), ("PREA", "PREA"), ("RD", "RD"),
                                    ("WR", "WR"), ("REF", "REFab"))} == \
        {k: ram[k] for k in ("ACT", "PRE", "PREA", "RD", "WR", "REF")}
    assert stream_digest(res.run.log) == (ram["commands_logged"], ram["command_stream_sha256"])
    assert drained_cycles(res.run) == ram["memory_cycles_drained"]
