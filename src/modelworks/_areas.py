"""One declaration per capability area; the lists that name every area derive from it.

Each :class:`Area` says what the area does, which extra installs it, which libraries it needs,
which ``modelworks`` subpackages it exposes and which CLI module registers its commands.
From :data:`AREAS` come:

* ``modelworks doctor``'s rows (``_doctor.AREAS``): areas with ``doctor=True``, in this order;
* the extra named in every missing-dependency error (``_imports.EXTRAS``): each module an extra
  brings (``extra_modules``) -> that extra;
* the CLI command groups (``cli.COMMAND_MODULES``), in the order ``--help`` lists them;
* the lazily imported subpackages of ``import modelworks`` (``__init__._SUBPACKAGES``);
* the steps of ``modelworks run`` after the search (``workflow.STEPS``, ``workflow.STEP_AREAS``);
* the types a model package may build (``package._allowlist.TYPES``): the allow-list tables the
  areas name, and no other.

This module must stay light: ``import modelworks`` and ``modelworks --help`` read it, so it
imports nothing but the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass

CORE = "core"


@dataclass(frozen=True)
class Step:
    """A step of ``modelworks run`` after the search.

    Parameters
    ----------
    order : int
        Steps run by increasing ``order`` (what every run must deliver first).
    switch : str
        Its name in ``run(steps={...})`` and ``--skip``.
    target : str
        ``"module"`` with a ``step(ctx)`` function, or ``"module:function"``.
    """

    order: int
    switch: str
    target: str


@dataclass(frozen=True)
class Area:
    """A capability area.

    Parameters
    ----------
    name : str
        The area's name, as ``modelworks doctor`` prints it.
    what : str
        One line: what it does.
    extra : str
        The extra that installs what it needs (``"core"``: a plain ``pip install modelworks``).
    modules : tuple of str
        Top-level modules ``doctor`` checks for this area.
    extra_modules : tuple of str
        Modules only ``extra`` brings; a missing one raises an error naming ``extra``.
    packages : tuple of str
        ``modelworks`` subpackages of the area (``modelworks.<name>``, imported on first use).
    cli : str or None
        Module under ``modelworks.cli`` whose ``register(subparsers)`` adds its commands.
    doctor : bool
        Whether ``modelworks doctor`` lists it.
    step : Step, optional
        Its step of ``modelworks run`` after the search.
    trusted : tuple of str
        The tables of the reviewed allow-list (``package/_allowlist.py``) that cover the models
        it saves; the allow-list trusts exactly the tables some area names here.
    """

    name: str
    what: str
    extra: str = CORE
    modules: tuple[str, ...] = ()
    extra_modules: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    cli: str | None = None
    doctor: bool = True
    step: Step | None = None
    trusted: tuple[str, ...] = ()

    @property
    def install(self) -> str:
        """The pip command that installs this area."""
        return install_command(self.extra)


def install_command(extra: str) -> str:
    """``pip install modelworks`` for the core, ``pip install 'modelworks[EXTRA]'`` otherwise."""
    return "pip install modelworks" if extra == CORE else f"pip install 'modelworks[{extra}]'"


# in the order `modelworks --help` lists the command groups and `doctor` lists the areas
AREAS: tuple[Area, ...] = (
    Area("run", "load, validate and prepare a table; compare, report (demo, run, compare, models, doctor)",
         packages=("data", "models", "metrics", "report", "exceptions"), cli="_main", doctor=False,
         trusted=("SKLEARN_ESTIMATORS", "SKLEARN_INTERNALS", "SKLEARN_TREES", "NUMPY_TYPES", "SCIPY_SPARSE",
                  "CONTAINERS"),
         step=Step(15, "refit", "modelworks.search._workflow:refit_step")),  # the search's recipe, on all rows
    Area("tuning", "grid / random / Bayesian (GP with torch, else TPE) / TPE search",
         modules=("optuna", "sklearn"), packages=("tuning",), cli="_tune"),
    Area("ensemble", "blending and stacking of fitted members", packages=("ensemble",),
         cli="_ensemble", doctor=False, trusted=("MODELWORKS",)),
    Area("explain", "SHAP values, partial dependence, plots", extra="explain",
         modules=("shap", "numba", "matplotlib"), extra_modules=("shap", "numba"),
         packages=("explain",), cli="_explain", step=Step(30, "explain", "modelworks.explain._workflow")),
    Area("stats", "mixed-effects models and GAMs", extra="stats", modules=("statsmodels", "pygam"),
         extra_modules=("pygam",), packages=("stats",), cli="_stats", trusted=("PYGAM", "MODELWORKS")),
    Area("forecast", "ARIMA, AutoARIMA, Prophet, backtests", extra="forecast",
         modules=("statsmodels", "prophet", "statsforecast"),
         extra_modules=("prophet", "cmdstanpy", "statsforecast"), packages=("forecast",),
         cli="_forecast"),
    Area("deep", "Keras 3 on PyTorch: transfer learning, custom layers", extra="deep",
         modules=("torch", "keras"), extra_modules=("torch", "keras"), packages=("deep",),
         cli="_deep"),  # trusts no allow-list table: not skops; the Keras wrappers' own load_native,
    # plain Keras as .keras with safe_mode=True
    Area("features", "polynomial features and deep feature synthesis", extra="features",
         modules=("featuretools", "woodwork"), extra_modules=("featuretools", "woodwork"),
         packages=("features",), cli="_features", trusted=("MODELWORKS",)),  # PolynomialFeatures
    Area("package", "safe model packages: save, verify, load without pickle", modules=("skops",),
         packages=("package",), cli="_package",
         step=Step(20, "package", "modelworks.registry._workflow")),  # saves, then registers if it can
    Area("registry", "an MLflow model registry (register, aliases, models:/ references)",
         extra="registry", modules=("mlflow", "alembic"), extra_modules=("mlflow", "alembic"),
         packages=("registry",)),  # its commands are registered by cli._package (package register)
    Area("serve", "HTTP prediction server", extra="serve", modules=("starlette", "uvicorn"),
         extra_modules=("starlette", "uvicorn", "orjson"),
         packages=("serve",)),  # its command is registered by cli._package (package serve)
    Area("batch", "batch prediction and evaluation of a saved model (predict, evaluate)",
         packages=("batch",), cli="_predict", doctor=False,
         step=Step(10, "evaluate", "modelworks.workflow:_evaluate_step")),
    Area("monitor", "data drift and A/B tests", modules=("scipy", "statsmodels"),
         packages=("monitor",), cli="_monitor", step=Step(40, "monitor", "modelworks.monitor._workflow")),
    Area("dist", "tuning trials on a Dask cluster", extra="dist", modules=("dask", "distributed"),
         extra_modules=("dask", "distributed", "psycopg")),
    Area("boosters", "XGBoost and LightGBM models", modules=("xgboost", "lightgbm"),
         trusted=("BOOSTERS",)),
    Area("catboost", "CatBoost models (a learner family of the search; native categoricals)",
         extra="catboost", modules=("catboost",), extra_modules=("catboost",), trusted=("CATBOOST",)),
)

BY_NAME: dict[str, Area] = {a.name: a for a in AREAS}


def doctor_areas() -> dict[str, tuple[list[str], str, str]]:
    """``area -> (modules it needs, extra that installs them, what it does)`` for ``doctor``."""
    return {a.name: (list(a.modules), a.extra, a.what) for a in AREAS if a.doctor}


def module_extras() -> dict[str, str]:
    """``module -> extra`` for every module that only an extra installs."""
    out: dict[str, str] = {}
    for area in AREAS:
        for module in area.extra_modules:
            if out.setdefault(module, area.extra) != area.extra:
                raise RuntimeError(f"{module} is declared by two extras")  # pragma: no cover
    return out


def command_modules() -> list[str]:
    """The CLI modules, in the order ``modelworks --help`` lists their commands."""
    return [f"modelworks.cli.{a.cli}" for a in AREAS if a.cli]


def missing(area: str) -> list[str]:
    """The modules of ``area``'s extra that cannot be found here (empty: the area works)."""
    import importlib.util

    out = []
    for module in BY_NAME[area].extra_modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(module)
    return out


def needs_extra(area: str) -> str | None:
    """A one-line note when ``area``'s extra is not installed (None: it is)."""
    absent = missing(area)
    if not absent:
        return None
    a = BY_NAME[area]
    return (f"{', '.join(absent)} not installed: {a.name} needs the '{a.extra}' extra "
            f"({install_command(a.extra)})")


def subpackages() -> set[str]:
    """Every ``modelworks`` subpackage an area exposes."""
    return {p for a in AREAS for p in a.packages}


def run_steps() -> list[tuple[str, str]]:
    """``(switch, target)`` of the run's steps after the search, in the order they run."""
    return [(a.step.switch, a.step.target) for a in sorted((a for a in AREAS if a.step), key=lambda a: a.step.order)]


def step_areas() -> dict[str, str]:
    """``switch -> area`` for the steps whose area needs an extra (skipped with a note without it)."""
    return {a.step.switch: a.name for a in AREAS if a.step and a.extra != CORE}


def trusted_tables() -> list[str]:
    """The allow-list tables some area names, each once, in the order the areas name them."""
    return list(dict.fromkeys(t for a in AREAS for t in a.trusted))
