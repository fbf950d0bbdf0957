"""Spec of a long-context decode system whose KV cache lives in storage (frozen, validated,
units in names).

One spec describes either system of the InstInfer comparison (``system``):

* ``instinfer``: the GPU runs every non-attention op; decode attention and the KV cache live in
  ``drives`` computational storage drives (CSDs). Each CSD has a NAND flash array (``flash_*``),
  an in-storage attention engine (``engine_*``) and a PCIe link to the GPU for peer-to-peer
  transfers (``drive_pcie_*``).
* ``flexgen``: FlexGen-style offloading; the KV cache lives on an SSD (or in host memory,
  ``kv_location``) and is read into the GPU every decode step, through the host
  (``kv_path: bounce``: SSD -> pinned host buffer -> GPU, FlexGen's copy threads) or directly
  (``kv_path: gds``, GPUDirect Storage). The GPU runs the whole layer, attention included.

Every number of the presets (``archsim/arch/presets/instinfer.yaml``, ``flexgen.yaml``) has its
source in the preset's comments. Times are integer nanoseconds (``*_ns``), rates per second.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from archsim.errors import InputError
from archsim.specs import at_least, check_spec, choice

SYSTEMS = ("instinfer", "flexgen")
DRIVE_SPLITS = ("heads", "batch")
KV_LOCATIONS = ("ssd", "host")
KV_PATHS = ("bounce", "gds")
FLASH_QUEUEING = ("per_die", "batch")


@dataclass(frozen=True)
class StorageSpec:
    """A GPU plus KV-cache storage (see the module docstring for the two systems).

    System: ``gpu`` names an ``xpu`` preset (or spec ``.yaml``) for the GPU side;
    ``micro_batches`` splits the batch into GPU batches that pipeline through the layers
    (FlexGen's ``num_gpu_batches``), so one micro-batch's GPU work overlaps another's drive work.

    Drives (``instinfer``): ``drives`` CSDs share the KV cache by KV head (``drive_split:
    heads``, InstInfer's split) or by sequence (``batch``).

    * flash: ``flash_channels`` x ``flash_dies_per_channel`` dies of ``flash_planes_per_die``
      planes; ``flash_page_bytes`` pages; ``flash_read_ns`` (tR) per (multi-plane) page read,
      ``flash_program_ns`` (tPROG) per program; ``flash_channel_bytes_per_s`` per channel bus.
      A die stays busy until its data has left over the channel (NVMeVirt's semantics).
      ``flash_queueing``: ``per_die`` (the controller keeps a queue of page reads per die, so a
      batch's reads start on each die as soon as it is free and the array streams across
      batches; NVMeVirt's ``ssd_advance_nand``) or ``batch`` (one page batch at a time, the dies
      drain between batches).
    * KV layout: token-indexed pages (``flash_page_bytes`` of one head: 16 tokens x 128 dims x
      FP16 for OPT); with ``sparse`` a second, channel-indexed copy of K with
      ``sparse_channels_per_page`` head dimensions per page.
    * engine: ``engine_kernels`` attention kernels, each a GeMV unit of ``engine_gemv_flops`` and
      a softmax unit of ``engine_softmax_elements_per_s``; an arg-top-k unit of
      ``engine_argtopk_elements_per_s``; one filter per flash channel of
      ``engine_filter_bytes_per_s`` (sparse channel extraction, inline with the channel bus).
      ``engine_task_buffers`` task buffers per kernel: 1 = a kernel fetches its task's pages,
      then computes (no overlap); 2 = double buffering, the next task's pages are fetched while
      the kernel computes the current one.
    * sparse (SparQ-style, InstInfer's SparF): ``sparse_channel_fraction`` of the head
      dimensions (r/d) and ``sparse_token_fraction`` of the tokens (k/S) are fetched; the top-k
      tokens come in blocks of ``sparse_block_tokens`` consecutive tokens (1: scattered tokens;
      a page's worth: page-granular selection).
    * PCIe: ``drive_pcie_bytes_per_s`` per drive link, ``gpu_pcie_bytes_per_s`` for the GPU's
      link that every transfer to or from the GPU crosses; ``pcie_latency_ns`` per transfer.

    Host path (``flexgen``): ``host_read_bytes_per_s`` is what FlexGen's file path (mmap +
    copy threads) reads from the SSD, ``host_write_bytes_per_s`` what it writes;
    ``gds_read_bytes_per_s`` the SSD read rate with GPUDirect Storage;
    ``host_relay_buffer_bytes`` the pinned relay buffer of each copy thread (a KV tensor larger
    than it cannot be copied); ``host_memory_bytes`` the DRAM that holds the KV cache when
    ``kv_location`` is ``host``.

    Energy: ``flash_read_pj_per_page``, ``flash_program_pj_per_page``, ``engine_pj_per_flop``,
    ``engine_pj_per_element``; the GPU's energy comes from its xpu preset.

    ``clock_hz`` is the clock of the event table (1 GHz: one cycle per nanosecond).
    """

    name: str = "storage"
    system: str = choice("instinfer", SYSTEMS)
    gpu: str = "a6000"
    micro_batches: int = at_least(1, 1)
    # drives
    drives: int = at_least(1, 1)
    drive_split: str = choice("heads", DRIVE_SPLITS)
    sparse: bool = False
    # flash array of one drive
    flash_channels: int = at_least(8, 1)
    flash_dies_per_channel: int = at_least(8, 1)
    flash_planes_per_die: int = at_least(1, 1)
    flash_page_bytes: int = at_least(4096, 1)
    flash_read_ns: int = at_least(35760, 0)
    flash_program_ns: int = at_least(185000, 0)
    flash_channel_bytes_per_s: float = at_least(1.4e9, 1.0)
    flash_queueing: str = choice("per_die", FLASH_QUEUEING)
    flash_read_pj_per_page: float = at_least(0.0, 0.0)
    flash_program_pj_per_page: float = at_least(0.0, 0.0)
    # in-storage attention engine
    engine_kernels: int = at_least(2, 1)
    engine_task_buffers: int = at_least(2, 1)
    engine_gemv_flops: float = at_least(13.3e9, 1.0)
    engine_softmax_elements_per_s: float = at_least(15.1e6, 1.0)
    engine_argtopk_elements_per_s: float = at_least(285e6, 1.0)
    engine_filter_bytes_per_s: float = at_least(1.79e9, 1.0)
    engine_pj_per_flop: float = at_least(0.0, 0.0)
    engine_pj_per_element: float = at_least(0.0, 0.0)
    # sparse attention (SparF)
    sparse_channels_per_page: int = at_least(2, 1)
    sparse_channel_fraction: float = at_least(0.125, 1e-9)
    sparse_token_fraction: float = at_least(0.0625, 1e-9)
    sparse_block_tokens: int = at_least(16, 1)
    # PCIe
    drive_pcie_bytes_per_s: float = at_least(7.0e9, 1.0)
    gpu_pcie_bytes_per_s: float = at_least(25.78e9, 1.0)
    pcie_latency_ns: int = at_least(0, 0)
    # FlexGen host path
    kv_location: str = choice("ssd", KV_LOCATIONS)
    kv_path: str = choice("bounce", KV_PATHS)
    host_read_bytes_per_s: float = at_least(2.147e9, 1.0)
    host_write_bytes_per_s: float = at_least(0.746e9, 1.0)
    gds_read_bytes_per_s: float = at_least(7.0e9, 1.0)
    host_relay_buffer_bytes: int = at_least(2**31, 1)
    host_memory_bytes: int = at_least(96 * 2**30, 1)
    clock_hz: int = at_least(1_000_000_000, 1)
    source: str = ""

    def __post_init__(self) -> None:
        check_spec(self)
        for f in ("sparse_channel_fraction", "sparse_token_fraction"):
            if getattr(self, f) > 1:
                raise InputError(None, f, "a fraction in (0, 1]", getattr(self, f))
        if self.system == "flexgen" and self.drives != 1:
            raise InputError(None, "drives", "1 for a flexgen system (FlexGen reads the KV cache through "
                             "one file-system path; use --arch instinfer for several drives)", self.drives)
        if self.system == "flexgen" and self.sparse:
            raise InputError(None, "sparse", "false for a flexgen system (sparse attention is modelled in the "
                             "drives: --arch instinfer --sparse)", self.sparse)
        if self.system == "flexgen" and self.kv_location == "host" and self.kv_path == "gds":
            raise InputError(None, "kv_path", "bounce when kv_location is host (GPUDirect Storage reads an SSD)",
                             self.kv_path)
        if not self.gpu:
            raise InputError(None, "gpu", "an xpu preset name or spec .yaml", self.gpu)

    @property
    def flash_dies(self) -> int:
        return self.flash_channels * self.flash_dies_per_channel

    @property
    def flash_internal_bytes_per_s(self) -> float:
        """Peak internal bandwidth: every channel bus busy (8 x 1.4 GB/s = 11.2 GB/s for InstInfer)."""
        return self.flash_channels * self.flash_channel_bytes_per_s

    def replace(self, **changes: Any) -> StorageSpec:
        """A copy with ``changes`` (``None`` values ignored); a bad value names its ``--flag``."""
        changes = {k: v for k, v in changes.items() if v is not None}
        try:
            return dataclasses.replace(self, **changes)
        except InputError as e:
            if e.source is None and e.field in changes:
                raise InputError(f"--{e.field.replace('_', '-')}", None, e.expected, e.got) from None
            raise

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
