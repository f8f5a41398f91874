"""Where park solves run: a local process pool by default, a Dask cluster when asked.

Every park task is a plain function of picklable arguments, so the same code runs on either: a
``concurrent.futures`` process pool on this machine, or a Dask distributed cluster
(``Client.get_executor()`` is a ``concurrent.futures.Executor`` too). No home-made
distribution layer.

Choosing (first match wins):

1. the ``scheduler`` argument (the CLI's ``--scheduler``);
2. the environment variable ``VPP_SCHEDULER``;
3. a process pool of ``workers`` processes (default: the machine's cores).

Values: ``processes`` (the pool), ``serial`` (in this process: debugging, and one park),
``dask-local`` (a local Dask cluster of ``workers`` processes, what the tests use) or a Dask
scheduler address such as ``tcp://10.0.0.5:8786``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

SCHEDULER_ENV = "VPP_SCHEDULER"

T = TypeVar("T")
R = TypeVar("R")


class SerialExecutor(Executor):
    """Runs each task at once in this process (same interface as the pools)."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        fut: Future[R] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


@contextmanager
def park_executor(
    scheduler: str | None = None, workers: int | None = None, tasks: int | None = None
) -> Iterator[Executor]:
    """An executor for park tasks (see the module for how it is chosen).

    Parameters
    ----------
    scheduler : str, optional
        ``processes``, ``serial``, ``dask-local`` or a Dask address (``tcp://host:port``).
    workers : int, optional
        Processes of the local pool or local Dask cluster (default: the cores).
    tasks : int, optional
        How many tasks will come at most; a pool is never larger, and one task runs serially.

    Raises
    ------
    ValueError
        An unknown scheduler value.
    """
    choice = scheduler or os.environ.get(SCHEDULER_ENV) or "processes"
    n = workers or default_workers()
    if tasks is not None:
        n = max(1, min(n, tasks))
    if choice == "serial" or (choice == "processes" and n == 1):
        yield SerialExecutor()
    elif choice == "processes":
        with ProcessPoolExecutor(max_workers=n) as pool:
            yield pool
    elif choice == "dask-local" or choice.startswith(("tcp://", "tls://", "ucx://")):
        with _dask(choice, n) as ex:
            yield ex
    else:
        raise ValueError(
            f"scheduler {choice!r}: use processes, serial, dask-local or a Dask address "
            "(tcp://host:port)"
        )


def _dask(choice: str, n: int) -> AbstractContextManager[Executor]:
    from distributed import Client, LocalCluster

    @contextmanager
    def _ctx() -> Iterator[Executor]:
        if choice == "dask-local":
            # Processes, one thread each: HiGHS and pyomo hold the GIL most of the time.
            with (
                LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                ) as cluster,
                Client(cluster) as client,
            ):
                yield client.get_executor()
        else:
            with Client(choice) as client:
                yield client.get_executor()

    return _ctx()


def map_ordered(
    executor: Executor,
    fn: Callable[[T], R],
    items: Iterable[T],
    on_done: Callable[[int, int], None] | None = None,
) -> list[R]:
    """``fn`` over ``items`` on ``executor``, results in the order of ``items``.

    ``on_done(done, total)`` is called as tasks finish (progress for long runs). The first
    task error is raised once every task has finished, so no worker is left mid-task.
    """
    futures = [executor.submit(fn, item) for item in items]
    if on_done is not None:
        for k, _ in enumerate(as_completed(futures), start=1):
            on_done(k, len(futures))
    return [f.result() for f in futures]
