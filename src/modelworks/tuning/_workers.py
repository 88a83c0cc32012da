"""Running trials in parallel: worker processes on this machine, or a Dask cluster.

Every worker opens the same stored study (see :mod:`modelworks.tuning._storage`) with the same
seed; draws are seeded per trial number, so the trials do not depend on who ran them.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings

from modelworks.exceptions import TuningError
from modelworks.tuning import _storage
from modelworks.tuning._objective import _finished, _stop_at_target, _stop_at_total
from modelworks.tuning._samplers import _make_pruner, _make_sampler

DASK_CONNECT_TIMEOUT = "10s"



def _load(payload, worker_index: int):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures are in the trials table
    # the same seed in every worker: draws are seeded per trial number (see ``Reproducible``)
    sampler = _make_sampler(payload["strategy"], payload["objective"].distributions, payload["seed"])
    storage = _storage.open_storage(payload["storage"])
    return optuna.load_study(
        study_name=payload["study_name"],
        storage=storage,
        sampler=sampler,
        pruner=_make_pruner(payload["pruner"]),
    )


def run_worker(
    payload: dict, worker_index: int, n_trials: int | None, deadline: float | None
) -> dict:
    """Run trials of a stored study until ``n_trials`` are done or ``deadline`` (epoch s) passes.

    Runs in a worker process or on a Dask worker; opens the study from ``payload["storage"]``.
    """
    study = _load(payload, worker_index)
    timeout = None if deadline is None else max(0.0, deadline - time.time())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study.optimize(
                payload["objective"],
                n_trials=n_trials,
                timeout=timeout,
                catch=(Exception,),
                callbacks=[
                    _stop_at_target(payload["objective"].target),
                    _stop_at_total(payload.get("total")),
                ],
                gc_after_trial=False,
            )
    except KeyboardInterrupt:
        return {"worker": _storage.this_worker(), "interrupted": True}
    return {"worker": _storage.this_worker(), "interrupted": False}


PARENT_CHECK_S = 0.5  # how often a worker checks that the tune process that started it still runs
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:  # pragma: no cover - subprocess
    """End this worker process when the tune process that started it is gone (``kill -9``).

    Without this, workers killed with their parent's ``kill -9`` keep running their share of
    trials as orphans, so a resumed study overshoots ``--trials``. On Linux the kernel sends
    SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``); everywhere, a daemon thread
    checks every :data:`PARENT_CHECK_S` seconds that the parent is still this process's parent.
    The trial a killed worker was running stays RUNNING and is re-queued on the next run (its
    worker is dead).
    """
    import signal
    import sys
    import threading

    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)

    def orphaned() -> bool:
        return os.getppid() != parent

    if orphaned():  # the parent died before the request above took effect
        os._exit(1)

    def watch() -> None:
        while not orphaned():
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="modelworks-parent-watch", daemon=True).start()


def _process_entry(
    payload, worker_index, n_trials, deadline, queue, parent=None
) -> None:  # pragma: no cover - subprocess
    if parent is not None:
        _die_with_parent(parent)
    try:
        queue.put(("ok", run_worker(payload, worker_index, n_trials, deadline)))
    except KeyboardInterrupt:
        queue.put(("ok", {"interrupted": True}))
    except BaseException as e:
        queue.put(("error", f"{type(e).__name__}: {e}"))


def _quotas(remaining: int | None, n_workers: int) -> list[int | None]:
    if remaining is None:
        return [None] * n_workers
    n_workers = max(1, min(n_workers, remaining))
    return [
        remaining // n_workers + (1 if i < remaining % n_workers else 0) for i in range(n_workers)
    ]


class _Watcher:
    """Progress bar showing finished trials and the best score so far."""

    def __init__(self, study, total, desc):
        from modelworks._progress import progress

        self.study = study
        self.bar = progress(total=total, desc=desc, unit="trial")
        self.seen = _finished(study)

    def update(self, study=None):
        from optuna.trial import TrialState

        trials = (study or self.study).get_trials(deepcopy=False)
        done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
        values = [t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
        if done > self.seen:
            self.bar.update(done - self.seen)
            self.seen = done
        if values:
            self.bar.set_postfix(best=f"{max(values):.4f}", refresh=False)

    def callback(self, study, trial):
        self.update(study)

    def close(self):
        self.bar.close()


def _run_processes(payload, quotas, deadline, watcher) -> tuple[bool, list[str]]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # safe with torch/OpenMP already loaded in the parent
    queue = ctx.Queue()
    # not daemonic: estimators inside a worker may start their own processes (joblib)
    procs = [
        ctx.Process(target=_process_entry, args=(payload, i, n, deadline, queue, os.getpid()))
        for i, n in enumerate(quotas)
    ]
    interrupted = False
    try:
        for p in procs:
            p.start()
        while any(p.is_alive() for p in procs):
            for p in procs:
                p.join(timeout=0.5)
            watcher.update()
    except KeyboardInterrupt:
        interrupted = True
        for p in procs:  # the workers got SIGINT too: let them record their trial as failed
            p.join(timeout=10)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
    errors, reported = [], 0
    while reported < len(procs):
        try:
            kind, value = queue.get(timeout=0.2)
        except Exception:  # queue.Empty: a worker died without reporting
            break
        reported += 1
        if kind == "error":
            errors.append(value)
        elif value.get("interrupted"):
            interrupted = True
    if not interrupted:
        errors += [
            f"worker {i} exited with code {p.exitcode}"
            for i, p in enumerate(procs)
            if p.exitcode not in (0, None)
        ]
    return interrupted, errors


def _run_dask(payload, remaining, n_jobs, deadline, watcher, dask) -> tuple[bool, list[str]]:
    import uuid

    from modelworks._imports import require

    distributed = require("distributed", purpose="running trials on a Dask cluster")
    own = not isinstance(dask, distributed.Client)
    if own:
        try:
            client = distributed.Client(dask, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise TuningError(
                f"cannot reach the Dask scheduler at {dask!r} ({e}); start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS`, or check the address"
            ) from e
    else:
        client = dask
    interrupted = False
    errors: list[str] = []
    tag = uuid.uuid4().hex[:8]
    try:
        n_workers = (
            n_jobs if n_jobs > 1 else max(1, len(client.scheduler_info().get("workers", {})))
        )
        quotas = _quotas(remaining, n_workers)
        futures = [
            client.submit(
                run_worker, payload, i, n, deadline, pure=False, key=f"modelworks-tune-{tag}-{i}"
            )
            for i, n in enumerate(quotas)
        ]
        try:
            while not all(f.done() for f in futures):
                with contextlib.suppress(distributed.TimeoutError, TimeoutError):
                    distributed.wait(futures, timeout=1)
                watcher.update()
        except KeyboardInterrupt:
            interrupted = True
            client.cancel(futures)
        for f in futures:
            if f.status == "error":
                errors.append(f"{type(f.exception()).__name__}: {f.exception()}")
    finally:
        if own:
            client.close()
    return interrupted, errors
