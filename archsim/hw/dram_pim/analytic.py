"""Analytic level: a scope program's time in closed form, row by row (no command-level simulation).

Per all-bank row visit of ``m`` MAC bursts (``iv`` = MAC interval)::

    PRE_AB = max(ACT + tRAS, last MAC + tRTP)      ACT_AB = max(PRE_AB + tRP, previous ACT + tRC)
    first MAC = max(ACT + tRCD, last WR_GB + CWL + tBURST)      last MAC = first + (m - 1) iv

A phase first writes its ``g`` global-buffer bursts, one per ``max(tCCD_S, tBURST)`` from one
cycle after the previous MAC; the program ends when the last result is at the ASIC (the last MAC
+ ``result_latency_cycles`` + CL + RDMAC bursts) and the banks are precharged (PRE_AB + tRP).
Single-bank phases and writes follow the same rules with tCCD_S / tCCD_L between column commands.

This is the executor's schedule without the read-outs *between* MACs: a read-out takes a
command-bus slot (a MAC on that cycle and the rest of its row move one cycle later), it holds up
the next output-completing MAC until it has issued, and it turns the data bus around before the
next global-buffer write. The closed form leaves these out, so it is exact when no read-out meets a
MAC (tested on random programs) and otherwise a little short: within 2 % for weight VMMs and 15 %
for attention programs of 4-burst outputs (tests/dram_pim/test_ladder.py).
"""

from __future__ import annotations

from collections import Counter

from archsim.hw.dram_pim.commands import PimTiming
from archsim.hw.dram_pim.executor import ScopeRun
from archsim.hw.dram_pim.program import BankAccess, MacPhase, RowWrite, ScopeProgram, row_runs

NEG = -(10**12)


def analytic_run(timing: PimTiming, prog: ScopeProgram) -> ScopeRun:
    sp = timing.spec
    t = timing.t
    a1 = timing.bus_cycles("ACT") - 1  # JEDEC times run from the last cycle of a 2-cycle ACT (HBM)
    tRCD, tRCDWR, tRAS, tRTP, tRC = t("tRCD") + a1, t("tRCDWR") + a1, t("tRAS") + a1, t("tRTP"), t("tRC")
    tRP = t("tRP") - a1  # PRE to ACT (the end condition uses the plain tRP below)
    bl, cwl = t("tBURST"), t("CWL")
    iv = sp.mac_interval_cycles
    gb_iv = max(t("tCCD_S"), bl)
    wr2mac = cwl + bl
    lat = sp.result_latency_cycles
    U, bpu = sp.units_per_scope, sp.banks_per_unit
    run = ScopeRun(commands=Counter())
    c = run.commands
    now = 0  # earliest cycle for the next command
    last_act = NEG
    last_col = NEG  # last MAC (or column command) issue
    last_wr = NEG  # last WR (write recovery before PRE)
    open_ab = None
    open_bank: dict[int, int] = {}
    end = 0
    last_data = 0
    mac_floor = 0

    def close(now: int) -> int:
        """PRE of whatever is open; returns when it issued (and updates the end)."""
        nonlocal open_ab, end
        pre = max(now, last_act + tRAS, last_col + tRTP, last_wr + cwl + bl + t("tWR"))
        end = max(end, pre + t("tRP"))
        return pre

    for p in prog.phases:
        if isinstance(p, MacPhase):
            if p.gb_bursts:
                g0 = max(now, last_col + 1)
                gl = g0 + (p.gb_bursts - 1) * gb_iv
                c["WR_GB"] += p.gb_bursts
                run.gb_bursts += p.gb_bursts
                mac_floor = gl + wr2mac
                now = gl + (0 if timing.dual_bus else 1)  # a row command may share the last WR_GB's cycle
            single = p.bank >= 0
            for row, m in zip(*row_runs(p.rows)):
                m = int(m)
                row = int(row)
                cur = open_bank.get(p.bank) if single else open_ab
                if row != cur or (not single and open_bank) or (single and open_ab is not None):
                    conflict = cur is not None or (open_ab is not None) or bool(open_bank)
                    if conflict:
                        pre = close(now)
                        c["PRE" if (single or open_bank) else "PRE_AB"] += 1
                        act = max(pre + tRP, last_act + tRC)
                        open_ab = None
                        open_bank = {}
                    else:
                        act = max(now, last_act + tRC)
                    c["ACT" if single else "ACT_AB"] += 1
                    last_act = act
                    banks = 1 if single else sp.banks_per_scope
                    run.bank_activations += banks
                    first = max(act + tRCD, mac_floor)
                    firsts = 1 if single else U * min(m, bpu)
                    if conflict:
                        run.conflicts += firsts
                    else:
                        run.misses += firsts
                    n_acc = m if single else m * U
                    run.hits += n_acc - firsts
                    if single:
                        open_bank[p.bank] = row
                    else:
                        open_ab = row
                else:
                    first = max(last_col + (iv if not single else max(iv, t("tCCD_L"))), mac_floor)
                    run.hits += m if single else m * U
                step = iv if not single else max(t("tCCD_L"), sp.unit_to_dram_cycles(sp.unit_cycles_per_burst))
                last_col = first + (m - 1) * step
                run.accesses += m if single else m * U
                c["MAC_SB" if single else "MAC_AB"] += m
                now = last_col + 1
            outs = p.outputs
            if outs:
                name = "RDMAC_SB" if single else "RDMAC_AB"
                c[name] += outs
                nb = 1 if single else sp.readout_bursts
                run.readouts += outs
                run.readout_bursts += outs * nb
                rd = t("CL") + nb * bl
                last_data = max(last_data, last_col + lat + rd)
                first_data = _first_output_end(p, timing) + lat + rd
                if run.first_result_cycle < 0:
                    run.first_result_cycle = first_data
            run.mac_bursts += p.bursts * (1 if single else U)
            run.useful_macs += p.useful_macs
        elif isinstance(p, RowWrite):
            if open_ab != p.row or open_bank:
                conflict = open_ab is not None or bool(open_bank)
                if conflict:
                    pre = close(now)
                    c["PRE_AB"] += 1
                    act = max(pre + tRP, last_act + tRC)
                else:
                    act = max(now, last_act + tRC)
                open_bank = {}
                c["ACT_AB"] += 1
                last_act = act
                open_ab = p.row
                run.bank_activations += sp.banks_per_scope
                wr = act + tRCDWR
                kind = "conflicts" if conflict else "misses"
            else:
                wr = max(now, last_wr + bl)
                kind = "hits"
            prev_bank = None
            for b in p.banks:
                if prev_bank is not None:
                    same_bg = b // sp.standard.banks_per_group == prev_bank // sp.standard.banks_per_group
                    wr += t("tCCD_L_WR") if same_bg else max(t("tCCD_S_WR"), bl)
                prev_bank = b
                c["WR"] += 1
            setattr(run, kind, getattr(run, kind) + len(p.banks))
            run.accesses += len(p.banks)
            run.write_bursts += len(p.banks)
            last_wr = wr
            now = wr + 1
        elif isinstance(p, BankAccess):
            cur = open_bank.get(p.bank)
            if cur != p.row or open_ab is not None:
                conflict = cur is not None or open_ab is not None
                if conflict or open_bank:
                    pre = close(now)
                    c["PRE" if open_ab is None else "PRE_AB"] += 1
                    act = max(pre + tRP, last_act + tRC)
                else:
                    act = max(now, last_act + t("tRRD_S"))
                open_ab = None
                open_bank = {p.bank: p.row}
                c["ACT"] += 1
                last_act = act
                run.bank_activations += 1
                first = act + (tRCDWR if p.write else tRCD)
                run.conflicts += int(conflict)
                run.misses += int(not conflict)
                run.hits += p.bursts - 1
            else:
                first = max(now, last_col + t("tCCD_L"))
                run.hits += p.bursts
            lastc = first + (p.bursts - 1) * t("tCCD_L")
            c["WR" if p.write else "RD"] += p.bursts
            run.accesses += p.bursts
            if p.write:
                last_wr = lastc
                run.write_bursts += p.bursts
            else:
                last_col = max(last_col, lastc)
                last_data = max(last_data, lastc + t("CL") + bl)
                run.read_bursts += p.bursts
            now = lastc + 1
    if open_ab is not None or open_bank:
        close(now)
        c["PRE_AB" if open_ab is not None else "PRE"] += 1
    run.cycles = max(end, last_data) if sum(c.values()) else 0
    return run


def _first_output_end(p: MacPhase, timing: PimTiming) -> int:
    """Cycle of the phase's first output-completing MAC, from the phase's own start (a lower bound
    used only for the streaming window of the ASIC)."""
    import numpy as np

    idx = int(np.argmax(p.last))
    return timing.t("tRCD") + idx * timing.spec.mac_interval_cycles
