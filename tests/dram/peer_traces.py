"""The 20,000-line LD/ST traces replayed through archsim and through peer simulators built from
source (tests/golden/ramulator2, ramulator21, dramsim3): each is regenerated here from its seed,
byte for byte as it was recorded (the tests check its SHA-256), and the digest a recorded command
log is compared by."""

import hashlib
import random
from pathlib import Path

from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.standard import load_standard

N = 20_000
# (line bytes, capacity bytes, same-bank new-row stride bytes): DDR4-2400 8Gb x8, one rank (8 GiB,
# RoBaRaCoCh = 6 offset + 7 column + 2 bank-group + 2 bank bits below the row); HBM2 one channel of
# two 8 Gb pseudo-channels (1 GiB; 5 offset + 5 column + 1 pseudo-channel + 2 + 2 bits)
# DDR5-4800 16Gb x8, one rank (8 GiB; 6 offset + 6 column + 3 bank-group + 2 bank bits); HBM3 one
# pseudo-channel pair (1 KB rows x 32 banks), LPDDR5-6400 and GDDR6-14000 one channel (2 KB rows x
# 16 banks), 32 B bursts: the stride is one row across every bank below the row bits
GEOMETRY = {"ddr4-2400": (64, 8 << 30, 1 << 17), "hbm2": (32, 1 << 30, 1 << 15), "ddr5-4800": (64, 8 << 30, 1 << 17),
            "hbm3": (32, 1 << 30, 1 << 15), "lpddr5-6400": (32, 1 << 30, 1 << 15),
            "gddr6-14000": (32, 1 << 29, 1 << 15)}
# Ramulator's mapper names as archsim field orders (MSB to LSB): Ramulator fills the address vector
# from the last level (column) upwards (linear_mappers.cpp); RoBaRaCoCh is archsim's default
MAPPING = {"RoBaRaCoCh": None, "ChRaBaRoCo": "Ch:Ra:Bg:Ba:Ro:Co"}


# kind -> (seed of its random stream or None, share of writes, address pattern); a random address
# is drawn after the line's LD/ST draw, and a kind without writes draws no LD/ST
KINDS = {
    "rand_rd": (42, 0.0, "random"), "seq_rd": (None, 0.0, "sequential"),
    "rand_rw30": (43, 0.3, "random"), "seq_rw30": (44, 0.3, "sequential"),
    "stride_bank": (None, 0.0, "stride"), "stride_bank_wr": (None, 0.5, "stride"),
}


def trace_text(standard: str, kind: str) -> str:
    """The recorded trace (Ramulator LD/ST lines), generated as it was for the golden runs."""
    line, cap, stride = GEOMETRY[standard]
    seed, writes, pattern = KINDS[kind]
    rnd = random.Random(seed)
    rows = []
    for i in range(N):
        if pattern == "stride":
            op = "ST" if writes and i % 2 else "LD"  # alternating
        else:
            op = "ST" if writes and rnd.random() < writes else "LD"
        if pattern == "random":
            addr = rnd.randrange(cap // line) * line
        else:
            addr = i * (stride if pattern == "stride" else line)
        rows.append(f"{op} 0x{addr:x}\n")
    return "".join(rows)


def recorded_trace(tmp_path: Path, standard: str, kind: str, sha256: str) -> tuple[str, Path]:
    """The trace's text and a file holding it, after checking it is the one the peer ran."""
    text = trace_text(standard, kind)
    assert hashlib.sha256(text.encode()).hexdigest() == sha256, "not the recorded trace"
    path = tmp_path / f"{standard}_{kind}.trace"
    path.write_text(text)
    return text, path


def stream_digest(log) -> tuple[int, str]:
    """(commands, SHA-256) of ``cycle command rank bankgroup bank row`` lines from archsim's command
    log (rank: the pseudo-channel on HBM); the recorded peer logs were hashed the same way, their
    cycle numbers less one (a Ramulator controller counts the tick before issuing); row -1 unless
    ACT/RD/WR."""
    h = hashlib.sha256()
    for clk, _ch, cmd, rank, bg, bank, row in log:
        h.update(f"{clk} {cmd} {rank} {bg} {bank} {row if cmd in ('ACT', 'RD', 'WR') else -1}\n".encode())
    return len(log), h.hexdigest()


def drained_cycles(run) -> int:
    """The end cycle in a Ramulator controller's numbering: one ahead of archsim's when the run
    ends on read data; equal when it ends one cycle after a final write."""
    last_is_read = not run.log or run.log[-1][2] != "WR"
    return run.total_cycles + (1 if last_is_read else 0)


def one_burst_per_cycle(standard: str, **options) -> ControllerConfig:
    """The peers' front end: one trace line per cycle (LoadStoreTrace, DRAMsim3's trace CPU), each
    line one native burst of ``standard``; ``options`` are further controller settings."""
    return ControllerConfig(accepts_per_cycle=1, request_bytes=load_standard(standard).burst_bytes, **options)
