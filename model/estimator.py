"""The use case's estimator: imported by path, its hyperparameters checked, its packages named.

Light: the estimator's module is imported by name at run time, nothing else (the orchestrator
checks a use case with it before any step runs).

Any scikit-learn-compatible class will do (``sklearn.ensemble.HistGradientBoostingClassifier``,
``lightgbm.LGBMRegressor``...): a hyperparameter it does not take, an estimator of the wrong
task or a class that cannot be imported is refused with one line naming the key.
"""

import importlib
import inspect
from importlib import metadata
from typing import Any

from model.params import EstimatorSpec, Params, ParamsError


def estimator_class(spec: EstimatorSpec) -> type[Any]:
    """The class ``spec.import_path`` names; ParamsError if it cannot be imported."""
    module_name, _, class_name = spec.import_path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ParamsError(
            f"invalid 'estimator.import_path': cannot import {module_name} ({error}); "
            "install the package and pin it (docs/bring-your-own.md, 'Another estimator')"
        ) from None
    found = getattr(module, class_name, None)
    if not isinstance(found, type):
        raise ParamsError(f"invalid 'estimator.import_path': {module_name} has no class {class_name}")
    return found


def parameter_names(cls: type[Any]) -> tuple[set[str], bool]:
    """The names ``cls`` takes as hyperparameters, and whether it also takes ``**kwargs``."""
    names, open_ended = set(), False
    for parameter in inspect.signature(cls.__init__).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            open_ended = True
        elif parameter.name != "self" and parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
            names.add(parameter.name)
    return names, open_ended


PROBABILITY_METRICS = ("roc_auc", "log_loss")


def check_params(params: Params) -> type[Any]:
    """Refuse hyperparameters the estimator does not take, an estimator of the wrong task, and a
    probability metric for a classifier without ``predict_proba``."""
    spec, task = params.estimator, params.task
    cls = estimator_class(spec)
    names, open_ended = parameter_names(cls)
    unknown = sorted(set(spec.params) - names)
    if unknown and not open_ended:
        raise ParamsError(
            f"invalid 'estimator.{unknown[0]}': {cls.__name__} has no parameter {unknown[0]!r} "
            f"(it takes: {', '.join(sorted(names))})"
        )
    try:
        instance = cls(**spec.params)
        # scikit-learn checks values when fitting; its parameter constraints can be checked now
        validate = getattr(instance, "_validate_params", None)
        if callable(validate):
            validate()
    except (TypeError, ValueError) as error:
        raise ParamsError(f"invalid 'estimator.params': {cls.__name__}: {error}") from None
    if estimator_type(instance) != ("classifier" if task == "classification" else "regressor"):
        raise ParamsError(
            f"invalid 'estimator.import_path': {spec.import_path} is not a "
            f"{'classifier' if task == 'classification' else 'regressor'} (task: {task})"
        )
    metric = params.gate.primary_metric
    if metric in PROBABILITY_METRICS and not hasattr(instance, "predict_proba"):
        raise ParamsError(
            f"invalid 'gate.primary_metric': {metric} needs probabilities and {cls.__name__} "
            "has no predict_proba; use accuracy or f1"
        )
    return cls


def estimator_type(instance: Any) -> str | None:
    """``classifier``, ``regressor``... as the estimator declares it (scikit-learn's tags, which
    ``is_classifier`` reads; the older ``_estimator_type`` attribute otherwise)."""
    tags = getattr(instance, "__sklearn_tags__", None)
    try:
        found = tags() if callable(tags) else None
    except Exception:  # a third-party class whose tags need a fitted model or a newer base
        found = None
    if found is not None:
        return getattr(found, "estimator_type", None)
    return getattr(instance, "_estimator_type", None)


def distributions(spec: EstimatorSpec) -> dict[str, str]:
    """The installed distributions that provide the estimator's top-level package, with versions."""
    top = spec.import_path.split(".", 1)[0]
    names = metadata.packages_distributions().get(top, [])
    return {name: metadata.version(name) for name in names}
