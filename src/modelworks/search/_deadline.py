"""Stopping one fit of the search when it runs past its allowance.

The cost model decides which candidates start; a fit that then takes far longer than its
estimate (a learner that is slow on this kind of data, a machine that got busy) would otherwise
eat the time of every candidate after it. :func:`stop_fit_at` stops it at a wall-clock deadline:

* CatBoost through its own per-round callback (:func:`modelworks.models._catboost.stop_at`);
* every other learner through a one-shot ``SIGALRM`` timer: the handler raises
  :class:`FitStopped` between two Python steps of the fit (the boosters, bagged trees and neural
  nets all loop in Python, one round, tree or epoch at a time), and the search discards the
  candidate. A single long call into compiled code (a kernel SVM) ends before it is stopped.
  Compiled code may turn the interruption into an error of its own: once the timer has fired,
  any exception out of the fit counts as the stop.

The timer is used only in the main thread of a platform that has ``SIGALRM``; elsewhere a fit
runs to its end, as before. A timer already armed (pytest-timeout's, a user's) is kept: when it
is due first, ours is not armed; otherwise it is re-armed with the time it had left when the fit
ends, with its own handler.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time


class FitStopped(Exception):
    """A fit was stopped at its deadline."""


class _Timer:
    stopped = False


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _alarm(deadline: float):
    timer = _Timer()
    seconds = deadline - time.monotonic()
    previous_left, _ = signal.getitimer(signal.ITIMER_REAL)
    if previous_left and previous_left <= seconds:  # someone else's timer is due first: leave it alone
        yield [timer]
        return

    def _handler(signum, frame):
        if armed:
            timer.stopped = True
            raise FitStopped(f"the fit ran past its deadline ({seconds:.1f} s allowed)")

    armed = True
    started = time.monotonic()
    old_handler = signal.signal(signal.SIGALRM, _handler)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield [timer]
    except Exception:
        # Our handler raised FitStopped; compiled code it interrupted may surface it as an error of
        # its own (Cython re-raises while parsing a buffer format as ValueError). Once the timer has
        # fired the fit is discarded whatever the exception says.
        if not timer.stopped:
            raise
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if previous_left:
            signal.setitimer(signal.ITIMER_REAL, max(previous_left - (time.monotonic() - started), 1e-3))


def stop_fit_at(learner: str, deadline: float | None):
    """A context in which one fit of ``learner`` stops at ``deadline`` (``time.monotonic()``).

    It yields a list of stop records; after the block, ``any(r.stopped for r in records)`` says
    whether the fit was stopped (its model is then incomplete and must be discarded).
    """
    if deadline is None:
        return contextlib.nullcontext([])
    if learner == "catboost":
        from modelworks.models._catboost import stop_at

        return stop_at(deadline)
    if not _can_alarm():
        return contextlib.nullcontext([])
    return _alarm(deadline)
