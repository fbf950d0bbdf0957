"""The blocks in rtl/ are synthesizable: Yosys elaborates and maps every block configuration to
gates and flip-flops with no problems reported by ``check -assert`` and no latches. Skipped when
Yosys is not installed (Debian: apt-get install yosys)."""

import shutil
import subprocess

import pytest

from archsim.rtl.blocks import BLOCKS

pytestmark = pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed (apt-get install yosys)")


@pytest.mark.parametrize("name,params", [("mac_pe", {"ACC_W": 32}), ("mac_pe", {"ACC_W": 20}),
                                         ("systolic_array", {"ROWS": 3, "COLS": 2})])
def test_block_synthesizes_without_latches(name, params, tmp_path):
    blk = BLOCKS[name]
    sources = " ".join(str(p) for p in blk.source_paths())
    chparam = " ".join(f"-set {k} {v}" for k, v in blk.resolve(params).items())
    script = f"read_verilog {sources}; chparam {chparam} {name}; synth -top {name}; check -assert; stat"
    out = subprocess.run(["yosys", "-p", script], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    stat = out.stdout[out.stdout.rindex("Printing statistics"):]
    assert "DLATCH" not in stat.upper()
    assert "DFF" in stat  # registers were inferred
