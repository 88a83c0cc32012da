"""The errors modelworks raises on bad input.

Every error a user can cause is a :class:`ModelworksError`. Each one also subclasses the
nearest builtin (``ValueError``, ``KeyError``, ``FileNotFoundError`` ...) so code that already
catches those keeps working. Messages say what is wrong and what to do next; the command line
prints them as one line and exits with code 2.
"""

from __future__ import annotations

__all__ = [
    "ModelworksError",
    "DataError",
    "DataFileError",
    "ColumnError",
    "TargetError",
    "SchemaError",
    "ConfigError",
    "UnknownNameError",
    "NotFittedError",
    "MissingDependencyError",
    "SpaceError",
    "TuningError",
    "EnsembleError",
    "ExplainError",
    "StatsError",
    "ForecastError",
    "DeepError",
    "PackageError",
    "UnsafePackageError",
    "IntegrityError",
    "RegistryError",
    "ServeError",
    "FeatureError",
    "MonitorError",
]


class ModelworksError(Exception):
    """Base class of every error modelworks raises for bad input or a bad environment.

    Parameters
    ----------
    message : str
        What is wrong.
    param : str, optional
        A structured hint: the parameter to change, by its Python name (``"models"``).
    fix : str, optional
        What to do with it, ``{}`` standing for the parameter (``"drop it from {}"``).
        ``str(error)`` reads "...; drop it from models"; the command line renders the parameter
        as its flag: "...; drop it from --models" (:meth:`render`).
    """

    def __init__(self, *args, param: str | None = None, fix: str | None = None) -> None:
        super().__init__(*args)
        self.param = param
        self.fix = fix

    def render(self, name: str | None = None) -> str:
        """The message, with the hint naming the parameter as ``name`` (default: its own name)."""
        text = str(self.args[0]) if self.args else self.__class__.__name__
        if self.param and self.fix:
            text = f"{text}; {self.fix.format(name or self.param)}"
        return text

    def __str__(self) -> str:  # KeyError quotes its message; we never want that
        return self.render()


class DataError(ModelworksError, ValueError):
    """The data cannot be used as given (empty, wrong types, NaN where none is allowed...)."""


class DataFileError(DataError, OSError):
    """A data file is missing, unreadable, binary, empty or in an unknown format."""


class ColumnError(DataError, KeyError):
    """Columns are missing, duplicated, unexpected or of the wrong type."""


class TargetError(DataError):
    """The target column is missing or cannot be learned (all NaN, one class, ...)."""


class SchemaError(ColumnError):
    """Input does not match the schema a model was trained on."""


class ConfigError(ModelworksError, ValueError):
    """An option has an invalid value (negative folds, cv larger than the data...)."""


class UnknownNameError(ConfigError, KeyError):
    """A name (model, strategy, test, ...) is not one modelworks knows."""


class NotFittedError(ModelworksError, ValueError, AttributeError):
    """A model was used before it was fitted."""


class MissingDependencyError(ModelworksError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class SpaceError(ConfigError):
    """A hyperparameter search space is invalid."""


class TuningError(ModelworksError, RuntimeError):
    """A tuning study cannot run or resume."""


class EnsembleError(ConfigError):
    """An ensemble cannot be built from the given members or weights."""


class ExplainError(ModelworksError, ValueError):
    """A model cannot be explained as asked."""


class StatsError(ModelworksError, ValueError):
    """A statistical model cannot be fitted as specified."""


class ForecastError(ModelworksError, ValueError):
    """A time series or forecast request is invalid."""


class DeepError(ModelworksError, ValueError):
    """A deep-learning model or its data cannot be used as given."""


class PackageError(ModelworksError, ValueError):
    """A model package cannot be written or read."""


class UnsafePackageError(PackageError):
    """A model package contains something that is not allowed to load (pickle, unknown types)."""


class IntegrityError(PackageError):
    """A model package's files do not match the hashes in its manifest."""


class RegistryError(ModelworksError, LookupError):
    """A model registry operation failed (unknown name, alias, version or store)."""


class ServeError(ModelworksError, RuntimeError):
    """The prediction server cannot start as configured."""


class FeatureError(ModelworksError, ValueError):
    """Feature engineering cannot run on the given tables or spec."""


class MonitorError(ModelworksError, ValueError):
    """A drift check or model comparison cannot run on the given inputs."""
