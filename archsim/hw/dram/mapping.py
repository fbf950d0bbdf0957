"""Physical address -> (channel, rank, bank group, bank, row, column), vectorized with numpy.

A mapping is a list of fields from the most to the least significant address bit, above the burst
offset (``log2(burst_bytes)`` low bits). Field tokens (case-insensitive): ``Ro`` row, ``Ba`` bank
(within a bank group; with no ``Bg`` token it covers bank group and bank, bank group lower, as in
Ramulator's ``RoBaRaCoCh``), ``Bg`` bank group, ``Ra`` rank or HBM pseudo-channel (``Pc`` is the
same), ``Co`` column, ``Ch`` channel. A token may carry a bit count (``Co2``); a field may appear
more than once, and its one occurrence without a count takes the remaining bits.

Accepted forms: Ramulator names (``RoBaRaCoCh``, ``MOP4CLXOR``), DRAMsim3 strings
(``rochrababgco``), colon lists (``Ro:Ba:Bg:Ra:Co:Ch``), named presets (``bg-interleave``) and a
``+xor`` suffix (bank and bank-group bits XOR-ed with the low row bits; permutation-based page
interleaving, Zhang, Zhu and Zhang, MICRO 2000).

``MOP4CLXOR`` is Ramulator 2's mapper of that name (``src/ramulator/controller/addr_mapper/impl/
mop4clxor.cpp``): two low column bits, then rank / bank group / bank, the other column bits, the
row; then rank, bank group, bank and row are each XOR-ed with successive column bits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from archsim.errors import InputError
from archsim.hw.dram.standard import DramStandard

FIELDS = ("ro", "ba", "bg", "ra", "co", "ch")
ALIASES = {"pc": "ra", "row": "ro", "bank": "ba", "bankgroup": "bg", "rank": "ra", "pseudochannel": "ra",
           "column": "co", "channel": "ch"}
NAMED = {
    # Ramulator 2's default: column bits lowest (a stream stays in one bank group: tCCD_L-bound)
    "robaracoch": "Ro:Ba:Bg:Ra:Co:Ch",
    # row over column over bank: consecutive rows of a stream spread over banks
    "rocobarach": "Ro:Co:Ba:Bg:Ra:Ch",
    "chrabaroco": "Ch:Ra:Ba:Bg:Ro:Co",
}
DEFAULT_MAPPING = "RoBaRaCoCh"


@dataclass(frozen=True)
class AddressMapping:
    """A resolved mapping for one standard and channel count: ``fields`` from MSB to LSB as
    ``(field, bits)``; ``xor`` XORs bank group and bank with the low row bits; ``mop4clxor``
    selects Ramulator's MOP4CLXOR instead of the field list."""

    name: str
    fields: tuple[tuple[str, int], ...]
    offset_bits: int
    xor: bool = False
    mop4clxor: bool = False

    def describe(self) -> str:
        if self.mop4clxor:
            return "MOP4CLXOR"
        s = ":".join(f"{f.capitalize()}{b}" for f, b in self.fields if b)
        return s + ("+xor" if self.xor else "")

    def to_dict(self) -> dict:
        return {"name": self.name, "fields_msb_to_lsb": [[f, b] for f, b in self.fields if b],
                "burst_offset_bits": self.offset_bits, "xor": self.xor, "resolved": self.describe()}

    def decode(self, addr: np.ndarray, s: DramStandard, channels: int) -> dict[str, np.ndarray]:
        """Decode burst addresses (int64 array) into ``channel``, ``rank``, ``bankgroup``, ``bank``,
        ``row``, ``column`` and the flat bank index within the channel, ``flat_bank``."""
        a = np.asarray(addr, dtype=np.int64) >> self.offset_bits
        out = {k: np.zeros(a.shape, np.int64) for k in FIELDS}
        if self.mop4clxor:
            out = _mop4clxor(a, s, channels)
        else:
            shift = {k: 0 for k in FIELDS}
            for f, bits in reversed(self.fields):
                if bits:
                    out[f] |= (a & ((1 << bits) - 1)) << shift[f]
                    shift[f] += bits
                    a = a >> bits
            if self.xor:
                gb = _bits(s.bankgroups)
                bb = _bits(s.banks_per_group)
                out["bg"] ^= out["ro"] & ((1 << gb) - 1)
                out["ba"] ^= (out["ro"] >> gb) & ((1 << bb) - 1)
        # the row field may receive address bits above the device's capacity: wrap them
        out["ro"] &= s.rows - 1
        flat = (out["ra"] * s.bankgroups + out["bg"]) * s.banks_per_group + out["ba"]
        return {"channel": out["ch"], "rank": out["ra"], "bankgroup": out["bg"], "bank": out["ba"], "row": out["ro"],
                "column": out["co"], "flat_bank": flat}


def _bits(n: int) -> int:
    return max(int(n).bit_length() - 1, 0)


def _tokens(text: str) -> list[tuple[str, int | None]]:
    t = text.strip()
    if ":" in t:
        parts = [p.strip() for p in t.split(":") if p.strip()]
    else:
        parts = re.findall(r"[A-Za-z]{2}\d*", t)
        if "".join(parts) != t:
            raise ValueError(text)
    out = []
    for p in parts:
        m = re.fullmatch(r"([A-Za-z]+)(\d*)", p)
        if not m:
            raise ValueError(p)
        name = m.group(1).lower()
        name = ALIASES.get(name, name)
        if name not in FIELDS:
            raise ValueError(p)
        out.append((name, int(m.group(2)) if m.group(2) else None))
    return out


def resolve_mapping(text: str | None, s: DramStandard, channels: int, request_bytes: int = 64,
                    source: str = "--mapping") -> AddressMapping:
    """Resolve a mapping string for standard ``s`` with ``channels`` channels (see module doc).

    ``bg-interleave`` puts the bank-group bits just above the bursts of one ``request_bytes``
    request (``Ro:Ba:Ra:Co:Bg:Co<k>:Ch``), so consecutive requests alternate bank groups
    (tCCD_S-bound streaming) while one request stays in one row."""
    raw = (text or DEFAULT_MAPPING).strip()
    xor = False
    if raw.lower().endswith("+xor"):
        xor, raw = True, raw[:-4]
    key = raw.lower()
    offset = _bits(s.burst_bytes)
    if key == "mop4clxor":
        if xor:
            raise InputError(source, None, "MOP4CLXOR without +xor (it is an XOR mapping)", text)
        if s.columns < 4:
            raise InputError(source, None, "a standard with at least 4 columns for MOP4CLXOR", s.name)
        return AddressMapping("MOP4CLXOR", (), offset, mop4clxor=True)
    if key == "bg-interleave":
        k = _bits(max(request_bytes // s.burst_bytes, 1))
        spec = f"Ro:Ba:Ra:Co:Bg:Co{k}:Ch" if k else "Ro:Ba:Ra:Co:Bg:Ch"
    else:
        spec = NAMED.get(key, raw)
    try:
        toks = _tokens(spec)
    except ValueError as e:
        raise InputError(source, None, "a mapping such as RoBaRaCoCh, Ro:Ba:Bg:Ra:Co:Ch, rochrababgco, "
                         "bg-interleave or MOP4CLXOR (optionally +xor)", f"{text} (bad field {e})") from None
    total = {"ro": _bits(s.rows), "bg": _bits(s.bankgroups), "ba": _bits(s.banks_per_group), "ra": _bits(s.ranks),
             "co": _bits(s.columns), "ch": _bits(channels)}
    names = [n for n, _ in toks]
    if "bg" not in names:  # Ramulator's "Ba" covers bank group and bank, bank group in the low bits
        merged = []
        for n, b in toks:
            if n == "ba":
                if b is not None:
                    raise InputError(source, None, "a bit count on Ba only together with a Bg field", text)
                merged += [("ba", None), ("bg", None)]
            else:
                merged.append((n, b))
        toks = merged
    counts = {}
    for f in FIELDS:
        bits = [b for n, b in toks if n == f]
        given = sum(b for b in bits if b is not None)
        free = bits.count(None)
        if not bits and total[f]:
            raise InputError(source, None, f"a mapping naming every field with address bits (missing "
                             f"{f.capitalize()})", text)
        if free > 1:
            raise InputError(source, None, f"at most one {f.capitalize()} field without a bit count", text)
        if given > total[f] or (bits and not free and given != total[f]):
            raise InputError(source, None, f"{total[f]} bits in all for {f.capitalize()} in {s.name}", text)
        counts[f] = total[f] - given
    fields = tuple((n, b if b is not None else counts[n]) for n, b in toks)
    return AddressMapping(text or DEFAULT_MAPPING, fields, offset, xor=xor)


def _mop4clxor(a: np.ndarray, s: DramStandard, channels: int) -> dict[str, np.ndarray]:
    """Ramulator 2's MOP4CLXOR (see module docstring); the channel comes from the lowest bits
    (Ramulator's CacheLineInterleave channel mapper strips it first)."""
    out = {}
    chb = _bits(channels)
    out["ch"] = a & ((1 << chb) - 1)
    a = a >> chb
    widths = [("ra", _bits(s.ranks)), ("bg", _bits(s.bankgroups)), ("ba", _bits(s.banks_per_group))]
    colb = _bits(s.columns)
    col = a & 3
    a = a >> 2
    for f, b in widths:
        out[f] = a & ((1 << b) - 1)
        a = a >> b
    col = col | ((a & ((1 << (colb - 2)) - 1)) << 2)
    a = a >> (colb - 2)
    out["ro"] = a
    out["co"] = col
    xi = 0
    for f, b in widths + [("ro", _bits(s.rows))]:
        if b:
            out[f] = out[f] ^ ((col >> xi) & ((1 << b) - 1))
            xi += b
    return out
