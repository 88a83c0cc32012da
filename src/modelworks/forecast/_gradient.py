"""A lean finite-difference gradient for statsforecast's ARIMA likelihood optimisation.

statsforecast fits every candidate ARIMA with ``scipy.optimize.minimize(method="BFGS")``
without a gradient, so scipy estimates it by forward differences through
``approx_derivative``, whose per-call bookkeeping (array-API checks, bounds handling, wrapper
objects) costs more than the compiled likelihood itself on short series: about half the time
of an order search on a 100-point series. :func:`install` makes statsforecast's ``minimize``
pass the *same* forward differences as ``jac``: the same steps (BFGS's absolute ``eps``,
``sqrt(machine epsilon)``, with scipy's relative fallback where it vanishes), the same arithmetic, the objective value at ``x`` reused from the
preceding call, so the optimiser takes the same path and returns the same coefficients, only
without the overhead (checked in ``tests/forecast``). It is active only inside
:func:`faster_fits` (modelworks' own fits); anyone else's statsforecast calls, in any thread,
run scipy's own code.

statsforecast asks BFGS for a gradient norm below ``1e-8``, which finite differences rarely
reach: the search then runs on until the line search loses precision or 100 iterations pass,
for changes of the likelihood far below anything that moves a forecast. R's ``optim`` (which
``auto.arima`` uses) stops instead when an iteration improves the objective by less than
``reltol = sqrt(machine epsilon)`` relative to it. :func:`faster_fits` applies that same rule
by default (``reltol=R_RELTOL``; ``None`` keeps scipy's own stopping): the same orders and
hold-out accuracy on the benchmark's 23 series, ~10 % less CPU.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

_EPS_STEP = float(np.finfo(np.float64).eps) ** 0.5  # scipy's relative step for "2-point"
_installed = False
_lock = threading.Lock()
_active: ContextVar[bool] = ContextVar("modelworks_fast_gradient", default=False)
R_RELTOL = _EPS_STEP  # R optim's default reltol, sqrt(.Machine$double.eps)
_reltol: ContextVar[float | None] = ContextVar("modelworks_reltol", default=None)


def _r_stopping(reltol: float):
    """A BFGS callback that ends the search as R's ``optim`` does: when an iteration changes
    the objective by at most ``reltol * (|f| + reltol)``."""
    last: dict = {}

    def halt(intermediate_result) -> None:
        f = float(intermediate_result.fun)
        prev = last.get("f")
        last["f"] = f
        if prev is not None and abs(prev - f) <= reltol * (abs(f) + reltol):
            raise StopIteration  # scipy ends the loop and returns this iterate

    return halt


def forward_difference(fun, x0: np.ndarray, f0: float, args=(), *,
                       step: float = _EPS_STEP) -> np.ndarray:
    """Forward-difference gradient of ``fun`` at ``x0`` as scipy's BFGS computes it without
    ``jac``: absolute step ``step``, the relative step where ``x0 + step == x0``.

    The same arithmetic as the vectorised form, element by element in plain floats (a handful
    of parameters: numpy's per-call overhead would dominate), moving one coordinate of one
    work array (``fun`` must not keep a reference to its argument; statsforecast's
    likelihoods copy it)."""
    x0 = np.asarray(x0, dtype=float)
    xs = x0.tolist()
    step = float(step)
    grad = np.empty(len(xs))
    x1 = x0.copy()
    for i, xi in enumerate(xs):
        h = step
        if (xi + h) - xi == 0:  # the step vanishes next to a large |x|: scipy's relative step
            h = _EPS_STEP * (1.0 if xi >= 0 else -1.0) * max(1.0, abs(xi))
        x1[i] = xi + h
        grad[i] = (float(fun(x1, *args)) - f0) / ((xi + h) - xi)
        x1[i] = xi
    return grad


def _with_gradient(minimize):
    """``minimize`` that supplies the forward-difference gradient when none is given."""

    def fast_minimize(fun, x0, args=(), method=None, jac=None, **kwargs):
        if jac is not None or method != "BFGS" or not _active.get():
            return minimize(fun, x0, args=args, method=method, jac=jac, **kwargs)
        step = (kwargs.get("options") or {}).get("eps", _EPS_STEP)
        last: dict = {}

        def objective(x, *a):
            value = float(fun(x, *a))
            last["x"], last["f"] = np.asarray(x, dtype=float).tobytes(), value
            return value

        def gradient(x, *a):
            x = np.asarray(x, dtype=float)
            # the value at x from the objective call just before (same bits: same value)
            f0 = last["f"] if last.get("x") == x.tobytes() else float(fun(x, *a))
            return forward_difference(fun, x, f0, a, step=step)

        reltol = _reltol.get()
        if reltol is not None and kwargs.get("callback") is None:
            kwargs["callback"] = _r_stopping(reltol)
        return minimize(objective, x0, args=args, method=method, jac=gradient, **kwargs)

    fast_minimize.__wrapped__ = minimize
    return fast_minimize


@contextmanager
def faster_fits(*, reltol: float | None = R_RELTOL):
    """statsforecast ARIMA fits inside this block use the lean gradient (same results) and,
    unless ``reltol`` is None, R's relative stopping rule (see the module docstring)."""
    install()
    token, rtoken = _active.set(True), _reltol.set(reltol)
    try:
        yield
    finally:
        _reltol.reset(rtoken)
        _active.reset(token)


def install() -> None:
    """Give statsforecast's ARIMA module the gradient-supplying ``minimize`` (once per process);
    it takes the lean path only inside :func:`faster_fits`."""
    global _installed
    if _installed:
        return
    with _lock:
        if _installed:
            return
        import statsforecast.arima as sf_arima

        if not hasattr(sf_arima.minimize, "__wrapped__"):
            sf_arima.minimize = _with_gradient(sf_arima.minimize)
        _installed = True
