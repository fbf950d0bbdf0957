"""archsim against Ramulator 2.1, the simulator whose controller semantics archsim follows, on the
six DDR4 traces of tests/dram/peer_traces.py (runs recorded in tests/golden/ramulator21; the build
is described in the README there). With archsim's own defaults (32-entry read and write buffers,
0.2 / 0.8 watermarks, FR-FCFS, open page, all-bank refresh, RoBaRaCoCh) and one request accepted
per cycle as Ramulator's LoadStoreTrace sends them, every run is equal command for command: each
ACT, PRE, PREA, RD, WR and REFab at the same cycle, bank group, bank and row, the same end cycle
and the same counts."""

import json
from pathlib import Path

import pytest

from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.replay import replay

from .peer_traces import drained_cycles, recorded_trace, stream_digest

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "ramulator21" / "results.json").read_text())


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: f"{c['standard']}-{c['trace']}-{c['mapping']}")
def test_equals_ramulator21_command_for_command(case, tmp_path):
    ram = case["ramulator21"]
    _, path = recorded_trace(tmp_path, case["standard"], case["trace"], case["trace_sha256"])
    mapping = None if case["mapping"] == "RoBaRaCoCh" else case["mapping"]
    res = replay(case["standard"], path, trace_format="ramulator", mapping=mapping, channels=1,
                 config=ControllerConfig(accepts_per_cycle=1), record_commands=True)
    cmds = res.run.command_totals()
    assert {k: cmds[v] for k, v in (("ACT", "ACT"), ("PRE", "PRE"), ("PREA", "PREA"), ("RD", "RD"),
                                    ("WR", "WR"), ("REF", "REFab"))} == \
        {k: ram[k] for k in ("ACT", "PRE", "PREA", "RD", "WR", "REF")}
    assert stream_digest(res.run.log) == (ram["commands_logged"], ram["command_stream_sha256"])
    assert drained_cycles(res.run) == ram["memory_cycles_drained"]
