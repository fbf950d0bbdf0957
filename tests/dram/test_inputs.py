"""Standards, traces and address mappings: loading, validation, one-line errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.errors import InputError
from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.controller import DramSystem
from archsim.hw.dram.mapping import resolve_mapping
from archsim.hw.dram.standard import list_standards, load_standard, standard_from_mapping
from archsim.hw.dram.timing import build_table
from archsim.hw.dram.trace import (
    Trace,
    _parse_lines,
    _parse_whole,
    parse_trace_text,
    read_trace,
    synthetic_trace,
    write_trace,
)

# ---------------------------------------------------------------------------------------------
# standards
# ---------------------------------------------------------------------------------------------
# peak GB/s per channel from dram_pim.md section 2 (its "peak GB/s per channel" row)
PEAK = {"hbm2": 32, "hbm3": 51.2, "gddr6-14000": 28, "ddr4-2400": 19.2, "lpddr5-6400": 12.8, "ddr5-4800": 19.2}
# a few timing values in ns from the same table, checked against cycles * tCK (within one cycle)
NS = {"hbm2": {"tRC": 48, "tFAW": 15, "tRFC": 350}, "ddr4-2400": {"tRC": 46.7, "tFAW": 21.7, "CL": 14.2},
      "ddr5-4800": {"tRC": 46.2, "tFAW": 20, "tCCD_L_WR": 20}, "lpddr5-6400": {"tRC": 61.25, "tFAW": 20},
      "gddr6-14000": {"tRC": 51.3, "tFAW": 24.5, "CL": 13.7}, "hbm3": {"tRC": 45, "tFAW": 15, "CL": 12.5}}


def test_presets_are_the_six_standards():
    assert list_standards() == sorted(PEAK)


@pytest.mark.parametrize("name", sorted(PEAK))
def test_preset_peak_bandwidth_and_timings_match_the_reference_table(name):
    s = load_standard(name)
    assert s.peak_bytes_per_cycle * s.clock_hz / 1e9 == pytest.approx(PEAK[name])
    for k, ns in NS[name].items():
        assert abs(s.t(k) * s.tck_ns - ns) <= s.tck_ns, (k, s.t(k))
    d = s.to_dict()
    assert d["timing_cycles"]["tRCDWR"] >= 1 and d["sources"]


def test_standard_names_are_case_insensitive():
    assert load_standard("DDR4-2400").name == "ddr4-2400"


def doc(**over):
    body = {"name": "x", "family": "ddr4", "clock_hz": 1_000_000_000,
            "organization": {"channels": 1, "ranks": 1, "bankgroups": 4, "banks_per_group": 4, "rows": 1024,
                             "columns": 128, "burst_bytes": 64, "channel_width_bits": 64, "burst_length": 8},
            "timing_cycles": dict(load_standard("ddr4-2400").timing_cycles)}
    body.update(over)
    return {"version": 1, "kind": "dram_standard", "dram_standard": body}


@pytest.mark.parametrize("over,field", [
    ({"family": "ddr9"}, "family"),
    ({"organization": {"channels": 1}}, "organization.ranks"),
    ({"timing_cycles": {"CL": 3}}, "timing_cycles.tBURST"),
    ({"timing_cycles": {**load_standard("ddr4-2400").timing_cycles, "tXYZ": 3}}, "timing_cycles.tXYZ"),
    ({"timing_cycles": {**load_standard("ddr4-2400").timing_cycles, "tRC": 5}}, "timing_cycles.tRC"),
    ({"energy": {"idd": {"vdd_v": 1.2}}}, "energy.idd.idd0_ma"),
    ({"bogus": 1}, "dram_standard.bogus"),
    ({"tck_ps": 900}, "dram_standard.tck_ps"),
])
def test_bad_standard_fields_raise_one_error_naming_the_field(over, field):
    with pytest.raises(InputError) as e:
        standard_from_mapping(doc(**over), "std.yaml")
    assert "std.yaml" in str(e.value) and field in str(e.value)


def test_burst_bytes_must_match_width_and_burst_length():
    d = doc()
    d["dram_standard"]["organization"]["burst_bytes"] = 32
    with pytest.raises(InputError, match="burst_bytes"):
        standard_from_mapping(d, "std.yaml")


def test_unknown_preset_lists_the_presets():
    with pytest.raises(InputError, match="hbm2"):
        load_standard("hbm9")


def test_multi_cycle_commands_shift_constraints():
    # HBM2's ACT is two row-bus cycles: JEDEC tRCD = 14 counts from its second cycle -> 15 after
    # the first; ACT->ACT unchanged; PRE->ACT one less; the row bus is busy for 2 cycles.
    t = build_table(load_standard("hbm2"))
    lat = {(c.level, c.prev[0], c.next[0]): c.latency for c in t.constraints if c.window == 1}
    assert lat[(3, "ACT", "RD")] == 15 and lat[(3, "ACT", "WR")] == 13
    assert lat[(3, "ACT", "ACT")] == 48 and lat[(3, "PRE", "ACT")] == 13
    assert lat[(0, "ACT", "PRE")] == 2 and (0, "ACT", "RD") not in lat  # RD is on the column bus


# ---------------------------------------------------------------------------------------------
# traces
# ---------------------------------------------------------------------------------------------
def test_dramsim3_and_ramulator_formats_parse():
    t = parse_trace_text("0x1f40 READ 5\n# comment\n\n1F80 write 9\n", path="a.trace")
    assert t.format == "dramsim3"
    assert t.addr.tolist() == [0x1F40, 0x1F80] and t.is_write.tolist() == [False, True]
    assert t.arrival_cycle.tolist() == [5, 9]
    r = parse_trace_text("LD 0x12340\nST 4096\n", path="b.trace")
    assert r.format == "ramulator" and r.addr.tolist() == [0x12340, 4096] and r.is_write.tolist() == [False, True]
    assert r.arrival_cycle.tolist() == [0, 0]


@pytest.mark.parametrize("text,fmt,line", [
    ("0x40 READ 0\n0x80 RAED 3\n", None, 2),
    ("0x40 READ 0\n0x80 READ\n", "dramsim3", 2),
    ("0x40 READ 0\nzz READ 4\n", "dramsim3", 2),
    ("0x40 READ 0\n0x44 READ -1\n", "dramsim3", 2),
    ("LD 0x40\n\nLD 0x80 7\n", None, 3),
    ("LD 0x40\nLX 0x80\n", "ramulator", 2),
    ("garbage here\n", None, 1),
])
def test_malformed_line_is_one_error_with_file_and_line(text, fmt, line, tmp_path):
    p = tmp_path / "t.trace"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        read_trace(p, fmt)
    msg = str(e.value)
    assert msg.startswith(f"{p}:{line}: expected ") and ", got " in msg and "\n" not in msg


def _outcome(parse, text, fmt):
    try:
        t = parse(text, fmt, "x.trace")
    except InputError as e:
        return str(e)
    return t.format, t.addr.tolist(), t.is_write.tolist(), t.arrival_cycle.tolist(), t.addr.dtype, t.is_write.dtype


_TOKENS = ["LD", "ST", "ld", "St", "READ", "WRITE", "write", "0x40", "0X1f80", "0x0x1", "10x5", "4096", "-64",
           "0x-40", "+7", "1_0", "zz", "3", "0", str(1 << 62), str(1 << 64), f"0x{(1 << 62) - 1:x}", "#", "\u00a0",
           "+0x40", "-0x0", "0x_40", "0X_4_0", "0x4_0", "123"]


@st.composite
def trace_texts(draw):
    """Trace texts, mostly clean in one format, then perhaps one line replaced by random tokens."""
    fmt = draw(st.sampled_from(["dramsim3", "ramulator"]))
    n = draw(st.integers(0, 8))
    addr = st.integers(0, 1 << 40)
    if fmt == "dramsim3":
        lines = [[f"0x{a:x}" if draw(st.booleans()) else f"{a:X}", draw(st.sampled_from(["READ", "WRITE", "write"])),
                  str(draw(st.integers(0, 10**6)))] for a in draw(st.lists(addr, min_size=n, max_size=n))]
    else:
        hexa = draw(st.sampled_from([True, False, None]))  # None: each address drawn hex or decimal
        lines = [[draw(st.sampled_from(["LD", "ST", "ld"])),
                  f"0x{a:x}" if (draw(st.booleans()) if hexa is None else hexa) else str(a)]
                 for a in draw(st.lists(addr, min_size=n, max_size=n))]
    if lines and draw(st.booleans()):
        lines[draw(st.integers(0, len(lines) - 1))] = draw(st.lists(st.sampled_from(_TOKENS), max_size=4))
    sep = draw(st.sampled_from([" ", "\t", "  "]))
    eol = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    return eol.join(sep.join(t) for t in lines) + (eol if draw(st.booleans()) else "")


@settings(max_examples=300, deadline=None)
@given(trace_texts(), st.sampled_from([None, "dramsim3", "ramulator"]))
def test_whole_text_parse_equals_line_by_line(text, fmt):
    # the whole-text parser (taken when every line is a request) gives what the line-by-line
    # parser gives, the same arrays or the same error, on traces well-formed or not
    assert _outcome(parse_trace_text, text, fmt) == _outcome(_parse_lines, text, fmt)


def test_whole_text_parse_is_taken_for_clean_traces():
    t = synthetic_trace("random", 300, seed=2, write_fraction=0.3, gap_cycles=2)
    for fmt, k in (("dramsim3", 3), ("ramulator", 2)):
        lines = [f"0x{a:x} {'WRITE' if w else 'READ'} {c}" if k == 3 else f"{'ST' if w else 'LD'} 0x{a:x}"
                 for a, w, c in zip(t.addr.tolist(), t.is_write.tolist(), t.arrival_cycle.tolist())]
        text = "\n".join(lines) + "\n"
        whole = _parse_whole(text, fmt)
        assert whole is not None
        assert whole[0].tolist() == t.addr.tolist() and whole[1].tolist() == t.is_write.tolist()
        assert _outcome(parse_trace_text, text, None) == _outcome(_parse_lines, text, None)


def test_controller_configurations_that_could_never_finish_are_rejected():
    # a low write watermark of 0 never ends a drain (reads starve once the write buffer is empty);
    # a request of more bursts than a buffer holds is never queued; an arrival at 2^62 or later is
    # the controllers' "never"
    with pytest.raises(InputError, match="0 < low"):
        ControllerConfig(write_low_watermark=0.0)
    s = load_standard("hbm2")
    m = resolve_mapping(None, s, 1)
    with pytest.raises(InputError, match="at least 4 entries"):
        DramSystem(s, m, 1, ControllerConfig(request_bytes=128, write_buffer_size=3))
    with pytest.raises(InputError, match="below 2\\^62"):
        DramSystem(s, m, 1).add([0], [False], [1 << 62])
    with pytest.raises(InputError, match="below 2\\^62"):
        Trace.from_arrays([0], [False], [1 << 62])
    with pytest.raises(InputError, match=":1: expected"):
        parse_trace_text(f"0x40 READ {1 << 62}\n", "dramsim3", "x.trace")


def test_written_traces_read_back(tmp_path):
    t = synthetic_trace("random", 50, seed=1, write_fraction=0.5, gap_cycles=3)
    for fmt in ("dramsim3", "ramulator"):
        r = read_trace(write_trace(t, tmp_path / f"t.{fmt}", fmt))
        assert r.addr.tolist() == t.addr.tolist() and r.is_write.tolist() == t.is_write.tolist()
    assert read_trace(tmp_path / "t.dramsim3").arrival_cycle.tolist() == t.arrival_cycle.tolist()


# ---------------------------------------------------------------------------------------------
# address mapping
# ---------------------------------------------------------------------------------------------
def decode(name, mapping, addrs, channels=1):
    s = load_standard(name)
    m = resolve_mapping(mapping, s, channels)
    return m, m.decode(np.asarray(addrs, dtype=np.int64), s, channels)


def test_robaracoch_puts_columns_lowest():
    # DDR4: 6 offset bits, 7 column bits, then bank group (2), bank (2), row
    m, d = decode("ddr4-2400", None, [0, 64, 64 * 127, 64 * 128, 64 * 128 * 4, 64 * 128 * 16])
    assert d["column"].tolist() == [0, 1, 127, 0, 0, 0]
    assert d["bankgroup"].tolist() == [0, 0, 0, 1, 0, 0]
    assert d["bank"].tolist() == [0, 0, 0, 0, 1, 0]
    assert d["row"].tolist() == [0, 0, 0, 0, 0, 1]
    assert m.describe() == "Ro16:Ba2:Bg2:Co7"


def test_hbm2_pseudo_channel_and_channel_bits():
    # HBM2, 4 channels: 5 offset bits, 2 channel bits, 5 column bits, then the pseudo-channel
    _, d = decode("hbm2", None, [32, 64, 128, 32 * 4 * 32], channels=4)
    assert d["channel"].tolist() == [1, 2, 0, 0]
    assert d["column"].tolist() == [0, 0, 1, 0]
    assert d["rank"].tolist() == [0, 0, 0, 1]


def test_dramsim3_strings_and_bit_counts():
    # "rochrababgco": column lowest, then bank group, bank, rank, channel, row (MSB)
    _, d = decode("ddr4-2400", "rochrababgco", [64 * 128 * 3])
    assert d["bankgroup"].tolist() == [3]
    # bank group interleaving under the column, one 64 B request per burst on DDR4
    _, d = decode("ddr4-2400", "bg-interleave", [0, 64, 128, 64 * 4])
    assert d["bankgroup"].tolist() == [0, 1, 2, 0] and d["column"].tolist() == [0, 0, 0, 1]
    # on HBM2 a 64 B request (two bursts) stays in one bank group
    _, d = decode("hbm2", "bg-interleave", [0, 32, 64, 96])
    assert d["bankgroup"].tolist() == [0, 0, 1, 1] and d["column"].tolist() == [0, 1, 0, 1]


def test_xor_hash_spreads_a_row_stride_over_banks():
    s = load_standard("ddr4-2400")
    row_stride = 64 * 128 * 16
    _, plain = decode("ddr4-2400", None, np.arange(16) * row_stride)
    _, hashed = decode("ddr4-2400", "RoBaRaCoCh+xor", np.arange(16) * row_stride)
    assert set(plain["flat_bank"].tolist()) == {0}
    assert sorted(hashed["flat_bank"].tolist()) == list(range(16))  # bank/bank group ^= low row bits
    assert hashed["row"].tolist() == list(range(16)) and s.banks == 16


def test_mop4clxor_follows_ramulator():
    # DDR4, 64 B bursts: 2 low column bits, bank group (2), bank (2), 5 more column bits, row; then
    # bank group ^= column bits 0-1, bank ^= column bits 2-3, row ^= column bits 4-...
    _, d = decode("ddr4-2400", "MOP4CLXOR", [64 * 1, 64 * 4, 64 * 64, 64 * 4 * 16 * 32])
    # addr/64 = 1: col 1, bg 0^1 = 1; = 4: bg field = 1, col 0 -> bg 1; = 64: bits 6.. -> col |= 1 << 2
    assert d["column"].tolist() == [1, 0, 4, 0]
    assert d["bankgroup"].tolist() == [1, 1, 0, 0]
    assert d["bank"].tolist() == [0, 0, 1, 0]
    assert d["row"].tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize("bad", ["Ro:Xy:Co", "Ro:Co", "RoBaRaCoCh:Co9", "Ro:Ba:Bg:Co:Co"])
def test_bad_mapping_is_one_error(bad):
    with pytest.raises(InputError, match="--mapping"):
        resolve_mapping(bad, load_standard("ddr4-2400"), 1)
