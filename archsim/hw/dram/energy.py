"""DRAM energy from command counts: the IDD method and per-bit datapath energies.

**IDD** (Micron's power-calculator method, as DRAMsim3 ``src/configuration.cc`` applies it;
currents in mA, VDD in V, times in cycles of ``tck_ns``, so mA * V * ns = pJ; ``devices`` scales
the currents to the rank or pseudo-channel):

* ACT+PRE pair: ``VDD * (IDD0 * tRC - (IDD3N * tRAS + IDD2N * tRP)) * devices * tCK``
* RD / WR burst: ``VDD * (IDD4R|IDD4W - IDD3N) * tBURST * devices * tCK``
* REFab: ``VDD * (IDD5AB - IDD3N) * tRFC * devices * tCK`` per rank (REFpb with IDD5PB and tRFCpb)
* background per rank: ``VDD * IDD3N * devices * tCK`` per cycle with a bank open, ``VDD * IDD2N
  * devices * tCK`` per cycle with all banks precharged

**Datapath** (FGDRAM, O'Connor et al. MICRO'17, as AttAcc and LLMSimulator use it for HBM): an
activation costs ``act_pj``; every bit read or written costs the cell, column-decoder, bank-group
mux to global I/O and TSV energies on the stack plus ``io_pj_per_bit`` on the interposer (kept
apart so reports show I/O). Refresh and background come from the IDD set when there is one.

Energy is computed the project's way: the run's :class:`~archsim.engine.ActionCounts` priced by an
:class:`~archsim.energy.EnergyTable` built from the standard (:func:`energy_table`).

Units trap (``dram_pim.md`` section 2): DRAMsim3's ``total_energy`` is mA * V * cycles; archsim's
figures are already multiplied by tCK, so they are pJ.
"""

from __future__ import annotations

from typing import Any

from archsim.energy.table import EnergyEntry, EnergyTable
from archsim.engine.actions import ActionCounts
from archsim.hw.dram.results import DramRun
from archsim.hw.dram.standard import DramStandard


def idd_energies_pj(s: DramStandard) -> dict[str, float] | None:
    """pJ per action under the IDD method, or None when the standard has no IDD set."""
    p = s.energy.get("idd")
    if not p:
        return None
    vdd, dev, tck = p["vdd_v"], p.get("devices", 1.0), s.tck_ns
    t = s.t
    scale = vdd * dev * tck
    out = {
        "act": scale * (p["idd0_ma"] * t("tRC") - (p["idd3n_ma"] * t("tRAS") + p["idd2n_ma"] * t("tRP"))),
        "read_burst": scale * (p["idd4r_ma"] - p["idd3n_ma"]) * t("tBURST"),
        "write_burst": scale * (p["idd4w_ma"] - p["idd3n_ma"]) * t("tBURST"),
        "refab": scale * (p["idd5ab_ma"] - p["idd3n_ma"]) * t("tRFC"),
        "active_standby_cycle": scale * p["idd3n_ma"],
        "precharge_standby_cycle": scale * p["idd2n_ma"],
    }
    if "idd5pb_ma" in p and t("tRFCpb"):
        out["refpb"] = scale * (p["idd5pb_ma"] - p["idd3n_ma"]) * t("tRFCpb")
    return out


def datapath_energies_pj(s: DramStandard) -> dict[str, float] | None:
    """pJ per action under the per-bit datapath model, or None."""
    p = s.energy.get("datapath")
    if not p:
        return None
    bits = 8 * s.burst_bytes
    stack = p["cell_pj_per_bit"] + p["coldec_pj_per_bit"] + p["bgmux_gio_pj_per_bit"] + p["tsv_pj_per_bit"]
    return {"act": p["act_pj"], "read_burst": bits * stack, "write_burst": bits * stack,
            "io_read_burst": bits * p["io_pj_per_bit"], "io_write_burst": bits * p["io_pj_per_bit"]}


def energy_class(s: DramStandard) -> str:
    return f"dram_{s.name}"


#: component of each action in the breakdown
COMPONENT = {"act": "dram.act", "read_burst": "dram.read", "write_burst": "dram.write", "refab": "dram.refresh",
             "refpb": "dram.refresh", "active_standby_cycle": "dram.background",
             "precharge_standby_cycle": "dram.background", "io_read_burst": "dram.io", "io_write_burst": "dram.io"}


def primary_energies_pj(s: DramStandard) -> dict[str, tuple[float, str]]:
    """pJ per action of the standard's primary model, with each number's source: the datapath
    model where there is one (HBM), refresh and background from IDD; else the IDD model."""
    idd, dp = idd_energies_pj(s), datapath_energies_pj(s)
    src_idd = s.sources.get("energy_idd") or s.sources.get("energy") or "IDD method"
    src_dp = s.sources.get("energy_datapath") or "datapath model"
    out: dict[str, tuple[float, str]] = {}
    if dp:
        out.update({k: (v, src_dp) for k, v in dp.items()})
        if idd:
            for k in ("refab", "refpb", "active_standby_cycle", "precharge_standby_cycle"):
                if k in idd:
                    out[k] = (idd[k], src_idd)
    elif idd:
        out.update({k: (v, src_idd) for k, v in idd.items()})
    return out


def energy_table(s: DramStandard) -> EnergyTable | None:
    """An :class:`EnergyTable` pricing the DRAM actions of :func:`dram_actions` (None: no model)."""
    prim = primary_energies_pj(s)
    if not prim:
        return None
    entries = {energy_class(s): {a: EnergyEntry(pj, f"{s.name}: {src}") for a, (pj, src) in prim.items()}}
    return EnergyTable(f"dram-{s.name}", 1, entries, s.path)


def dram_actions(s: DramStandard, run: DramRun, prefix: str = "") -> ActionCounts:
    """The run's DRAM actions (component ``dram.*``, class ``dram_<standard>``)."""
    a = ActionCounts()
    cls = energy_class(s)
    tot = run.command_totals()
    reads = tot.get("RD", 0) + tot.get("RDA", 0)
    writes = tot.get("WR", 0) + tot.get("WRA", 0)
    active = sum(sum(ch) for ch in run.active_cycles)
    ranks = sum(len(ch) for ch in run.active_cycles)
    p = prefix
    a.add(p + COMPONENT["act"], cls, "act", tot.get("ACT", 0))
    a.add(p + COMPONENT["read_burst"], cls, "read_burst", reads)
    a.add(p + COMPONENT["write_burst"], cls, "write_burst", writes)
    a.add(p + COMPONENT["refab"], cls, "refab", tot.get("REFab", 0))
    a.add(p + COMPONENT["refpb"], cls, "refpb", tot.get("REFpb", 0))
    a.add(p + COMPONENT["active_standby_cycle"], cls, "active_standby_cycle", active)
    a.add(p + COMPONENT["precharge_standby_cycle"], cls, "precharge_standby_cycle", ranks * run.total_cycles - active)
    if s.energy.get("datapath"):
        a.add(p + COMPONENT["io_read_burst"], cls, "io_read_burst", reads)
        a.add(p + COMPONENT["io_write_burst"], cls, "io_write_burst", writes)
    return a


def _priced(per: dict[str, float], s: DramStandard, run: DramRun) -> dict[str, float]:
    acts = dram_actions(s, run)
    by: dict[str, float] = {}
    for comp, _cls, action, n in acts:
        if action in per:
            by[comp] = by.get(comp, 0.0) + n * per[action]
    return by


def energy_report(s: DramStandard, run: DramRun) -> dict[str, Any]:
    """Total and breakdown (pJ) of the primary model, the IDD and datapath models separately, and
    notes on what is not modelled."""
    notes = []
    prim = {k: v for k, (v, _) in primary_energies_pj(s).items()}
    idd, dp = idd_energies_pj(s), datapath_energies_pj(s)
    out: dict[str, Any] = {"model": None, "total_pj": None, "breakdown_pj": {}, "per_action_pj": prim}
    if prim:
        by = _priced(prim, s, run)
        out["model"] = "datapath" if dp else "idd"
        out["total_pj"] = sum(by.values())
        out["breakdown_pj"] = dict(sorted(by.items()))
    else:
        notes.append(f"energy not modelled for {s.name}: {s.sources.get('energy', 'no IDD or datapath values')}")
    if idd:
        by = _priced(idd, s, run)
        out["idd"] = {"total_pj": sum(by.values()), "breakdown_pj": dict(sorted(by.items())), "per_action_pj": idd}
        if run.command_totals().get("REFpb") and "refpb" not in idd:
            notes.append("per-bank refresh energy not modelled (no IDD5PB in the standard)")
        notes.append("IDD model: I/O and termination energy not included (DRAM core only)")
    if dp:
        by = _priced(dp, s, run)
        out["datapath"] = {"total_pj": sum(by.values()), "breakdown_pj": dict(sorted(by.items())),
                           "per_action_pj": dp}
        if not idd:
            notes.append(f"{s.name}: no IDD values, so refresh and background energy are not included")
    out["notes"] = notes
    return out
