"""Executors: run chunks of design points somewhere and yield ``(chunk, records)`` as each
chunk finishes (in completion order; the store puts rows back in point order).

* :class:`LocalExecutor` (default): a process pool on this machine. A worker that dies (killed,
  out of memory, crashed) breaks the pool; the pool is restarted and the unfinished chunks run
  again. A chunk whose worker dies twice is split into single points, and a single point whose
  worker dies :data:`MAX_WORKER_DEATHS` times is recorded as an error row. Workers exit by
  themselves when the sweep process dies (even by SIGKILL).
* :class:`DaskExecutor`: Dask distributed (``pip install archsim[dask]``) on a scheduler at an
  address (``tcp://HOST:PORT``) or on a LocalCluster it starts. Dask reschedules the tasks of a
  lost worker itself; a task that kills workers ``distributed.scheduler.allowed-failures`` times
  (``KilledWorker``) becomes error rows. Workers need archsim installed and the workload files at
  the same paths.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from archsim.dse.evaluate import error_record, run_chunk
from archsim.dse.spec import DesignPoint
from archsim.errors import InputError

Chunk = Sequence[DesignPoint]
MAX_WORKER_DEATHS = 3
EXECUTORS = ("local", "dask")


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _died(point: DesignPoint, times: int) -> dict[str, Any]:
    return error_record(point, f"WorkerDied: the worker process died {times} times while evaluating this point "
                               "(killed, out of memory or crashed); rerun with --retry-errors to try again")


def _identity(pid: int) -> str | None:
    """The start time of process ``pid`` (Linux ``/proc``), to tell it from a later process that
    reuses its pid; ``None`` where there is no ``/proc``."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, identity: str | None) -> bool:
    if identity is not None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return False
        return fields[0] != "Z" and fields[19] == identity
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _exit_with_sweep(sweep_pid: int, identity: str | None, interval_s: float = 0.5) -> None:
    """Pool-worker initializer: exit when the sweep process is gone, so that a SIGKILLed sweep
    leaves no workers waiting forever for work (nor, with forkserver, a server kept alive by them)."""

    def watch() -> None:
        while _alive(sweep_pid, identity):
            time.sleep(interval_s)
        os._exit(1)

    threading.Thread(target=watch, name="archsim-exit-with-sweep", daemon=True).start()


def _mp_context() -> multiprocessing.context.BaseContext:
    """How pool workers start: ``$ARCHSIM_DSE_START_METHOD`` when set; else ``fork`` on Linux when
    this process runs a single thread (workers start in milliseconds with everything imported;
    forking a threaded process is unsafe), else ``forkserver`` with archsim preloaded where
    available, else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    forced = os.environ.get("ARCHSIM_DSE_START_METHOD")
    if forced:
        if forced not in methods:
            raise InputError("ARCHSIM_DSE_START_METHOD", None, f"one of {methods}", forced)
        ctx = multiprocessing.get_context(forced)
        if forced == "forkserver":
            ctx.set_forkserver_preload(["archsim.dse.evaluate"])
        return ctx
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["archsim.dse.evaluate"])
        return ctx
    return multiprocessing.get_context("spawn")


class LocalExecutor:
    """A process pool of ``workers`` processes (default: the CPUs this process may use)."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()

    def describe(self) -> str:
        return f"{self.workers} local worker{'s' if self.workers != 1 else ''}"

    def run(self, chunks: Sequence[Chunk]) -> Iterator[tuple[Chunk, list[dict[str, Any]]]]:
        queue = [tuple(c) for c in chunks if c]
        deaths: dict[tuple[str, ...], int] = {}
        ctx = _mp_context()
        me = os.getpid()
        while queue:
            pool = ProcessPoolExecutor(max_workers=min(self.workers, len(queue)), mp_context=ctx,
                                       initializer=_exit_with_sweep, initargs=(me, _identity(me)))
            try:
                futures = {pool.submit(run_chunk, c): c for c in queue}
                queue = []
                for fut in as_completed(futures):
                    chunk = futures[fut]
                    try:
                        records = fut.result()
                    except BrokenProcessPool:
                        ident = tuple(p.key for p in chunk)
                        n = deaths[ident] = deaths.get(ident, 0) + 1
                        if len(chunk) == 1 and n >= MAX_WORKER_DEATHS:
                            yield chunk, [_died(chunk[0], n)]
                        elif len(chunk) > 1 and n >= 2:
                            queue.extend((p,) for p in chunk)  # isolate the point that kills its worker
                        else:
                            queue.append(chunk)
                        continue
                    yield chunk, records
            finally:
                pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Dask distributed: ``scheduler`` is an address (``tcp://HOST:PORT``); without one a
    LocalCluster of ``workers`` single-threaded worker processes is started and closed."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise InputError("--executor", None, "the optional dask[distributed] package for --executor dask: "
                             "pip install archsim[dask]", "dask") from None
        self.scheduler = scheduler
        self.workers = workers or default_workers()

    def describe(self) -> str:
        if self.scheduler:
            return f"the Dask scheduler at {self.scheduler}"
        return f"a Dask LocalCluster of {self.workers} worker{'s' if self.workers != 1 else ''}"

    def _client(self) -> tuple[Any, Any]:
        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                return Client(self.scheduler, timeout="10s"), None
            except (OSError, TimeoutError) as e:
                raise InputError("--scheduler", None, "the address of a running Dask scheduler (tcp://HOST:PORT)",
                                 f"{self.scheduler} ({type(e).__name__})") from None
        cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster

    def run(self, chunks: Sequence[Chunk]) -> Iterator[tuple[Chunk, list[dict[str, Any]]]]:
        from distributed import as_completed as dask_completed
        from distributed.scheduler import KilledWorker

        chunks = [tuple(c) for c in chunks if c]
        if not chunks:
            return
        client, cluster = self._client()
        try:
            futures = client.map(run_chunk, chunks, pure=False)
            index = {f.key: c for f, c in zip(futures, chunks)}
            for fut in dask_completed(futures):
                chunk = index[fut.key]
                try:
                    records = fut.result()
                except KilledWorker:
                    records = [_died(p, 1 + int(_allowed_failures())) for p in chunk]
                except Exception as e:  # points never raise (run_chunk records them): the cluster does
                    raise InputError("--scheduler" if self.scheduler else "--executor", None,
                                     "Dask workers that can run archsim.dse (archsim installed, the same version, "
                                     "the workload files at the same paths)", f"{type(e).__name__}: {e}") from None
                fut.release()
                yield chunk, records
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _allowed_failures() -> int:
    import dask

    return int(dask.config.get("distributed.scheduler.allowed-failures", 3))


def make_executor(name: str = "local", *, workers: int | None = None, scheduler: str | None = None) -> Any:
    """An executor by name: ``local`` or ``dask``."""
    if workers is not None and workers < 1:
        raise InputError("--workers", None, "a positive number of workers", workers)
    if name == "local":
        if scheduler:
            raise InputError("--scheduler", None, "no scheduler address with --executor local "
                             "(use --executor dask)", scheduler)
        return LocalExecutor(workers)
    if name == "dask":
        return DaskExecutor(scheduler, workers)
    raise InputError("--executor", None, f"one of {list(EXECUTORS)}", name)
