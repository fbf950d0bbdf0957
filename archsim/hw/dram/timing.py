"""DRAM commands and the per-level timing-constraint tables of each standard family.

A timing constraint says: after command ``prev`` issues to a node of hierarchy level ``level``
(channel, rank/pseudo-channel, bank group, bank), command ``next`` may not issue to the same node
for ``latency`` cycles (counted from the ``window``-th most recent ``prev``, so tFAW is
``ACT -> ACT, window 4``). ``sibling`` constraints apply instead to the *other* nodes of that level
under the same parent (rank-to-rank data-bus switching). This is Ramulator 2's representation
(``python/ramulator/dram/spec.py`` ``TimingConstraint``; ``src/ramulator/dram/node.cpp``), and the
tables below follow its standards (``python/ramulator/dram/{ddr4,ddr5,lpddr5,gddr6,hbm2,hbm3}.py``)
with archsim's JEDEC parameter names.

New command types (an all-bank ACT/MAC/PRE for DRAM-PIM, a bank-bundle read for Logic-PIM) are
added with :meth:`TimingTable.extended`: give the :class:`Command` (its scope, whether it opens,
closes or accesses rows, its command bus) and its constraints; the timing engine
(:mod:`archsim.hw.dram.device`) needs nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from archsim.hw.dram.standard import DramStandard

CHANNEL, RANK, BANKGROUP, BANK = 0, 1, 2, 3
LEVEL_NAMES = ("channel", "rank", "bankgroup", "bank")
SCOPES = ("bank", "rank", "channel")


@dataclass(frozen=True)
class Command:
    """A DRAM command.

    * ``scope``: the banks it targets: one ``bank``, every bank of a ``rank`` (pseudo-channel), or
      every bank of the ``channel``
    * ``opens`` / ``closes``: the row-buffer action on its target banks; ``accesses``: it moves a
      burst of data (``is_write`` for writes); ``refreshes``: a refresh
    * ``bus``: ``row`` or ``col`` command bus (they are one bus unless the standard has two);
      ``bus_cycles``: command-bus cycles it occupies
    """

    name: str
    scope: str = "bank"
    opens: bool = False
    closes: bool = False
    accesses: bool = False
    is_write: bool = False
    refreshes: bool = False
    bus: str = "row"
    bus_cycles: int = 1


@dataclass(frozen=True)
class Constraint:
    level: int
    prev: tuple[str, ...]
    next: tuple[str, ...]
    latency: int
    window: int = 1
    sibling: bool = False


BASE_COMMANDS = (
    Command("ACT", opens=True),
    Command("PRE", closes=True),
    Command("PREA", scope="rank", closes=True),
    Command("RD", accesses=True, bus="col"),
    Command("WR", accesses=True, is_write=True, bus="col"),
    Command("RDA", accesses=True, closes=True, bus="col"),
    Command("WRA", accesses=True, is_write=True, closes=True, bus="col"),
    Command("REFab", scope="rank", refreshes=True),
    Command("REFpb", refreshes=True),
)


@dataclass(frozen=True)
class TimingTable:
    """The commands of a standard and its timing constraints, one ``(prev, next)`` pair per entry,
    with the multi-cycle-command adjustment and the command-bus occupancy already applied."""

    commands: tuple[Command, ...]
    constraints: tuple[Constraint, ...]
    dual_command_bus: bool = False
    names: dict[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", {c.name: i for i, c in enumerate(self.commands)})

    def index(self, name: str) -> int:
        return self.names[name]

    def command(self, name: str) -> Command:
        return self.commands[self.names[name]]

    def extended(self, commands: Sequence[Command] = (), constraints: Iterable[Constraint] = ()) -> TimingTable:
        """A table with extra commands and constraints (for PIM command sets). Constraints given here
        are taken as they are (no multi-cycle adjustment); commands with ``bus_cycles > 1`` get
        their command-bus occupancy added."""
        cmds = self.commands + tuple(commands)
        known = {c.name for c in cmds}
        extra = list(_pairs(constraints, known))
        extra += _bus_constraints(tuple(commands), cmds, self.dual_command_bus)
        return replace(self, commands=cmds, constraints=self.constraints + tuple(extra))


def _pairs(constraints: Iterable[Constraint], known: set[str]) -> Iterable[Constraint]:
    for c in constraints:
        for p in c.prev:
            for n in c.next:
                if p not in known or n not in known:
                    raise ValueError(f"timing constraint names an unknown command: {p} -> {n}")
                yield Constraint(c.level, (p,), (n,), c.latency, c.window, c.sibling)


def _bus_constraints(new: tuple[Command, ...], all_cmds: tuple[Command, ...], dual: bool) -> list[Constraint]:
    """A command of ``bus_cycles`` cycles blocks every command of its bus for that long
    (Ramulator ``DRAMStandard._generate_bus_constraints``)."""
    out = []
    for c in new:
        if c.bus_cycles <= 1:
            continue
        for o in all_cmds:
            if not dual or o.bus == c.bus:
                out.append(Constraint(CHANNEL, (c.name,), (o.name,), c.bus_cycles))
    return out


# ---------------------------------------------------------------------------------------------
# the standards
# ---------------------------------------------------------------------------------------------
RDS = ("RD", "RDA")
WRS = ("WR", "WRA")
CAS = RDS + WRS


def _family_constraints(s: DramStandard) -> list[Constraint]:
    """The constraint list of ``s.family`` with latencies from ``s``'s timing parameters."""
    t = s.t
    fam = s.family
    bl, cl, cwl = t("tBURST"), t("CL"), t("CWL")
    c: list[Constraint] = []

    def add(level, prev, nxt, lat, window=1, sibling=False):
        c.append(Constraint(level, tuple(prev), tuple(nxt), int(lat), window, sibling))

    hbm = fam in ("hbm2", "hbm3")
    # the level that carries a standard's data bus and CAS-to-CAS timing: the channel for one-rank
    # GDDR6 (Ramulator puts them on Channel), the pseudo-channel for HBM, the rank otherwise
    data_level = RANK if hbm else CHANNEL
    add(data_level, RDS, RDS, bl)
    add(data_level, WRS, WRS, bl)

    # -- rank / pseudo-channel ----------------------------------------------------------------
    R = RANK
    add(R, RDS, RDS, t("tCCD_S"))
    add(R, WRS, WRS, t("tCCD_S_WR"))
    if fam == "gddr6":
        add(R, RDS, WRS, cl + 1)                          # read-to-write: CL + 1-cycle turnaround
    elif fam == "ddr5":
        add(R, RDS, WRS, cl + bl + 2 - cwl + 2)           # tRPST / tWPRE
    else:
        add(R, RDS, WRS, cl + bl + 2 - cwl)               # DDR4, LPDDR5, HBM (HBM3: nBTR = 2)
    add(R, WRS, RDS, cwl + bl + t("tWTR_S"))
    if fam in ("ddr4", "ddr5", "lpddr5"):                 # ranks share the data bus
        add(R, RDS, CAS, bl + t("tCS"), sibling=True)
        if fam == "lpddr5":
            add(R, WRS, RDS, cl + bl + t("tCS") - cwl, sibling=True)
        else:
            add(R, WRS, RDS, cwl + bl + t("tCS") - cl, sibling=True)
    add(R, ("RD",), ("PREA",), t("tRTP"))
    add(R, ("WR",), ("PREA",), cwl + bl + t("tWR"))
    add(R, ("ACT",), ("ACT",), t("tRRD_S"))
    add(R, ("ACT",), ("ACT",), t("tFAW"), window=4)
    add(R, ("ACT",), ("PREA",), t("tRAS"))
    add(R, ("PREA",), ("ACT",), t("tRPab"))
    if t("tPPD"):
        if fam == "hbm3":
            add(R, ("PRE",), ("PRE",), t("tPPD"))
        else:
            add(R, ("PRE", "PREA"), ("PRE", "PREA"), t("tPPD"))
    add(R, ("ACT",), ("REFab",), t("tRC"))
    add(R, ("PRE", "PREA"), ("REFab",), t("tRP"))
    add(R, ("RDA",), ("REFab",), t("tRP") + t("tRTP"))
    add(R, ("WRA",), ("REFab",), cwl + bl + t("tWR") + t("tRP"))
    add(R, ("REFab",), ("ACT", "PREA") + (("REFab",) if fam == "gddr6" else ()), t("tRFC"))
    if t("tRFCpb"):
        if hbm:
            add(R, ("REFpb",), ("ACT",), t("tRREFD"))
            add(R, ("ACT",), ("REFpb",), t("tRRD_S"))
        elif fam == "gddr6":
            add(R, ("ACT",), ("REFpb",), t("tRRD_L"))
            add(R, ("PREA",), ("REFpb",), t("tRP"))
            add(R, ("RDA",), ("REFpb",), t("tRP") + t("tRTP"))
            add(R, ("WRA",), ("REFpb",), cwl + bl + t("tWR") + t("tRP"))
            add(R, ("REFpb",), ("ACT", "REFpb"), t("tRREFD"))

    # -- bank group ---------------------------------------------------------------------------
    G = BANKGROUP
    add(G, RDS, RDS, t("tCCD_L"))
    add(G, WRS, WRS, t("tCCD_L_WR"))
    add(G, WRS, RDS, cwl + bl + t("tWTR_L"))
    add(G, ("ACT",), ("ACT",), t("tRRD_L"))

    # -- bank ---------------------------------------------------------------------------------
    B = BANK
    add(B, ("ACT",), ("ACT",), t("tRC"))
    add(B, ("ACT",), RDS, t("tRCD"))
    add(B, ("ACT",), WRS, t("tRCDWR"))
    add(B, ("ACT",), ("PRE",), t("tRAS"))
    add(B, ("PRE",), ("ACT",), t("tRP"))
    add(B, ("RD",), ("PRE",), t("tRTP"))
    add(B, ("WR",), ("PRE",), cwl + bl + t("tWR"))
    add(B, ("RDA",), ("ACT",), t("tRTP") + t("tRP"))
    add(B, ("WRA",), ("ACT",), cwl + bl + t("tWR") + t("tRP"))
    if t("tRFCpb"):
        add(B, ("REFpb",), ("ACT",), t("tRFCpb"))
        add(B, ("ACT",), ("REFpb",), t("tRC"))
        add(B, ("PRE",), ("REFpb",), t("tRP"))
        if fam == "gddr6":
            add(B, ("RDA",), ("REFpb",), t("tRP") + t("tRTP"))
            add(B, ("WRA",), ("REFpb",), cwl + bl + t("tWR") + t("tRP"))
    return c


def build_table(s: DramStandard) -> TimingTable:
    """The timing table of standard ``s``: its family's constraints, expanded to one ``(prev, next)``
    pair each, adjusted for multi-cycle commands and with command-bus occupancy added.

    JEDEC times run from the *last* cycle of a command while the controller records its first, so a
    constraint gains ``cycles(prev) - 1`` and loses ``cycles(next) - 1`` (Ramulator 2
    ``DRAMStandard.to_config``)."""
    cyc = dict(s.command_cycles)
    cmds = tuple(replace(c, bus_cycles=cyc.get(c.name, 1),
                         bus=c.bus if s.dual_command_bus else "row") for c in BASE_COMMANDS)
    names = {c.name for c in cmds}
    pairs = []
    for con in _pairs(_family_constraints(s), names):
        p, n = con.prev[0], con.next[0]
        lat = con.latency + (cyc.get(p, 1) - 1) - (cyc.get(n, 1) - 1)
        pairs.append(replace(con, latency=lat))
    pairs = _bus_constraints(cmds, cmds, s.dual_command_bus) + pairs
    return TimingTable(cmds, tuple(pairs), s.dual_command_bus)
