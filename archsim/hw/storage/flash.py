"""NAND flash array timing: a batch of page reads or programs striped over channels, dies and
planes, as a closed form per batch.

Layout of a batch of ``n`` pages (the KV-cache striping): page ``i`` goes to channel
``i mod C``; the ``j``-th page of a channel (``j = i div C``) goes to die ``j mod D``, plane
``(j div D) mod P``, round ``j div (D P)``. One round of a die is one multi-plane operation on up
to ``P`` pages.

Timing semantics (NVMeVirt's ``ssd_advance_nand``, snu-csl/nvmevirt ``ssd.c``, with planes):

* read: the die senses its pages in ``tR`` (one multi-plane read), then each page crosses the
  channel bus in ``x = page_bytes / channel_bytes_per_s``; the die stays busy until its last
  page has left (no cache read), then starts its next round.
* program: the pages cross the bus first, then the die programs them in ``tPROG``; the next
  transfer to that die waits for the program to end.
* the channel bus is work-conserving and serves transfers in the order their data is ready
  (ties: lower die first); channels are independent, so the busiest channel (``ceil(n / C)``
  pages) ends last.

Closed form (derived in docs/storage.md, checked against the page-by-page reference in
:mod:`archsim.hw.storage.reference`): with ``T = P x``, first-ready time ``a`` (``tR`` for a read,
0 for a program) and die recovery ``w`` (``tR`` or ``tPROG``), the transfer of round ``r`` of die
``d`` in a full round ends at ``max(a + T (r D + d + 1), a + r w + T (r + d + 1))``; the last,
partial round is a ``D``-step recurrence. Times are exact (ints or Fractions in, same type out).
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Rational

from archsim.hw.storage.spec import StorageSpec


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def channel_makespan(n_pages: int, dies: int, planes: int, first_ready: Rational, recovery: Rational,
                     transfer: Rational) -> Rational:
    """End of the last bus transfer on one channel holding ``n_pages`` pages (from an idle start).

    ``first_ready``: when a die's first round may use the bus (tR for reads, 0 for programs);
    ``recovery``: time a die needs after its transfer before its next round can use the bus (tR
    for reads, tPROG for programs); ``transfer``: bus time of one page.
    """
    if n_pages <= 0:
        return 0
    per_round = dies * planes
    full, rem = divmod(n_pages, per_round)
    t_round = planes * transfer

    def full_end(r: int, d: int) -> Rational:
        return max(first_ready + t_round * (r * dies + d + 1),
                   first_ready + r * recovery + t_round * (r + d + 1))

    if rem == 0:
        return full_end(full - 1, dies - 1)
    prev = full_end(full - 1, dies - 1) if full else 0
    for d in range(min(rem, dies)):
        pages = _ceil_div(rem - d, dies)  # die d's pages in the partial round
        ready = first_ready if full == 0 else full_end(full - 1, d) + recovery
        prev = max(ready, prev) + pages * transfer
    return prev


def page_transfer_s(spec: StorageSpec, nbytes: Rational | int | None = None, *,
                    rate_bytes_per_s: float | None = None) -> Fraction:
    """Bus time (seconds, exact) of ``nbytes`` (default one page) at the channel rate (or
    ``rate_bytes_per_s``)."""
    nb = spec.flash_page_bytes if nbytes is None else nbytes
    rate = spec.flash_channel_bytes_per_s if rate_bytes_per_s is None else rate_bytes_per_s
    return Fraction(nb) / Fraction(rate)


def read_batch_s(spec: StorageSpec, n_pages: int, *, transfer_s: Fraction | None = None) -> Fraction:
    """Seconds (exact) to read ``n_pages`` striped pages from an idle array."""
    x = page_transfer_s(spec) if transfer_s is None else transfer_s
    t_r = Fraction(spec.flash_read_ns, 10**9)
    return Fraction(channel_makespan(_ceil_div(n_pages, spec.flash_channels), spec.flash_dies_per_channel,
                                     spec.flash_planes_per_die, t_r, t_r, x))


def program_batch_s(spec: StorageSpec, n_pages: int) -> Fraction:
    """Seconds (exact) to program ``n_pages`` striped pages into an idle array."""
    if n_pages <= 0:
        return Fraction(0)
    t_p = Fraction(spec.flash_program_ns, 10**9)
    busiest = _ceil_div(n_pages, spec.flash_channels)
    return Fraction(channel_makespan(busiest, spec.flash_dies_per_channel, spec.flash_planes_per_die, 0, t_p,
                                     page_transfer_s(spec))) + t_p


def read_occupancy_s(spec: StorageSpec, n_pages: int, *, transfer_s: Fraction | None = None) -> Fraction:
    """Seconds (exact) a batch of ``n_pages`` reads occupies an array that is already streaming:
    its pages' share of the channels at the array's streaming rate, ``(n / C) max(x, (tR + P x) /
    (D P))`` (each channel moves a page per bus time ``x`` or, die-bound, ``D P`` pages per
    ``tR + P x``).

    This is the time between batches when the flash controller keeps a queue of page reads per
    die instead of draining the array between batches: NVMeVirt, which the paper's CSD runs on,
    starts every page read at ``max(die available, command issued)`` (``ssd_advance_nand``:
    ``nand_stime = max(lun->next_lun_avail_time, cmd->stime)``, snu-csl/nvmevirt ``ssd.c``), so
    a command's reads begin on each die as soon as that die is free. For batches that fill whole
    rounds the result is exact: two back-to-back batches of ``D C`` pages end at
    ``occupancy + read_batch_s``, as the page-level reference of the concatenated stream
    (``tests/storage/test_flash.py``)."""
    if n_pages <= 0:
        return Fraction(0)
    x = page_transfer_s(spec) if transfer_s is None else transfer_s
    t_r = Fraction(spec.flash_read_ns, 10**9)
    d, p = spec.flash_dies_per_channel, spec.flash_planes_per_die
    return Fraction(n_pages, spec.flash_channels) * max(x, (t_r + p * x) / (d * p))


def streaming_read_bytes_per_s(spec: StorageSpec) -> float:
    """Long-run read bandwidth of the array: each channel moves ``min(bus rate, D P page / (tR +
    P x))`` (bus-bound or die-bound)."""
    x = float(page_transfer_s(spec))
    die_rate = spec.flash_dies_per_channel * spec.flash_planes_per_die * spec.flash_page_bytes / (
        spec.flash_read_ns * 1e-9 + spec.flash_planes_per_die * x)
    return spec.flash_channels * min(spec.flash_channel_bytes_per_s, die_rate)


def to_ns(seconds: Fraction) -> int:
    """Whole nanoseconds, rounded up (every stage of the storage models is an integer of ns)."""
    return int(-(-(seconds * 10**9) // 1))
