"""A NumPy evaluation of known, simple pipelines, checked against ``estimator.predict`` at load.

scikit-learn's ``predict`` validates its input on every call (types, shape, finiteness, feature
names, output containers): about 0.4 ms for one row of a scaler + linear model on the
reference 2-core machine, where the arithmetic itself takes a few microseconds. The service
validates each request once already (see validation.py), so for pipelines made only of the
steps below it applies the fitted parameters directly, with the same operations in the same
order as scikit-learn (so the results are the same floats):

- ``StandardScaler``: ``(x - mean_) / scale_`` (either part skipped when the scaler did;
  scikit-learn subtracts and divides in place on a copy: the same element-wise operations);
- ``"passthrough"`` / ``None`` steps: nothing;
- a final single-target linear regressor from the allow-list: ``x @ coef_ + intercept_``.

Anything else (another step, a multi-output model, a subclass) gets ``None`` here, and the
service calls ``estimator.predict``. :func:`compile_predictor`'s result is only used after
:func:`agrees` has compared it with ``estimator.predict`` on probe rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
FastPredict = Callable[[FloatArray], FloatArray]

# Regressors whose predict() is exactly ``X @ coef_ + intercept_`` (LinearModel._decision_function).
_LINEAR_REGRESSORS = frozenset(
    {
        "LinearRegression",
        "Ridge",
        "RidgeCV",
        "Lasso",
        "LassoCV",
        "ElasticNet",
        "ElasticNetCV",
        "BayesianRidge",
    }
)
_RTOL = 1e-12
_ATOL = 1e-12


def _is_sklearn(obj: Any, module_prefix: str, names: frozenset[str]) -> bool:
    cls = type(obj)
    return cls.__name__ in names and cls.__module__.startswith(module_prefix)


Scale = tuple[FloatArray | None, FloatArray | None]  # a StandardScaler: (mean_, scale_)


def _scaler(step: Any) -> Scale | None:
    """A scaler's ``(mean, scale)``, either ``None`` when it skips that part; ``None`` if unfitted."""
    mean = getattr(step, "mean_", None) if getattr(step, "with_mean", False) else None
    scale = getattr(step, "scale_", None) if getattr(step, "with_std", False) else None
    if getattr(step, "with_mean", False) and mean is None:
        return None
    if getattr(step, "with_std", False) and scale is None:
        return None
    mean_a = None if mean is None else np.asarray(mean, dtype=np.float64)
    scale_a = None if scale is None else np.asarray(scale, dtype=np.float64)
    return mean_a, scale_a


def _linear(model: Any) -> tuple[FloatArray, FloatArray] | None:
    """A single-target linear model's ``(coef_, intercept_)``; ``None`` for multi-output."""
    coef = np.asarray(getattr(model, "coef_", None), dtype=np.float64)
    intercept = np.asarray(getattr(model, "intercept_", 0.0), dtype=np.float64)
    if coef.ndim != 1 or intercept.ndim != 0:
        return None  # multi-output: leave it to scikit-learn
    return coef, intercept


def compile_predictor(estimator: Any) -> FastPredict | None:
    """A NumPy function equal to ``estimator.predict`` for supported pipelines, else ``None``."""
    steps: list[Any]
    if _is_sklearn(estimator, "sklearn.pipeline", frozenset({"Pipeline"})):
        steps = [step for _, step in estimator.steps]
    else:
        steps = [estimator]
    *transformers, final = steps
    scalers: list[Scale] = []
    for step in transformers:
        if step is None or step == "passthrough":
            continue
        if not _is_sklearn(step, "sklearn.preprocessing", frozenset({"StandardScaler"})):
            return None
        scaler = _scaler(step)
        if scaler is None:
            return None
        scalers.append(scaler)
    if not _is_sklearn(final, "sklearn.linear_model", _LINEAR_REGRESSORS):
        return None
    head = _linear(final)
    if head is None:
        return None
    return _compose(scalers, *head)


def _compose(scalers: list[Scale], coef: FloatArray, intercept: FloatArray) -> FastPredict:
    """One function for the whole pipeline: a Python call per request, not one per step.

    The input is never modified: the first subtraction or division makes a new array.
    """
    if len(scalers) == 1 and scalers[0][0] is not None and scalers[0][1] is not None:
        mean: FloatArray = scalers[0][0]
        scale: FloatArray = scalers[0][1]

        def scaled_linear(x: FloatArray) -> FloatArray:  # the usual pipeline: scaler + model
            out: FloatArray = ((x - mean) / scale) @ coef + intercept
            return out

        return scaled_linear

    def run(x: FloatArray) -> FloatArray:
        for mean_a, scale_a in scalers:
            if mean_a is not None:
                x = x - mean_a
            if scale_a is not None:
                x = x / scale_a
        out: FloatArray = x @ coef + intercept
        return out

    return run


def probe_rows(n_features: int, sample: FloatArray | None = None) -> FloatArray:
    """Rows to compare the two paths on: the recorded sample plus seeded random rows."""
    rng = np.random.default_rng(20240601)
    rows = [
        rng.normal(0.0, 0.05, size=(32, n_features)),
        rng.normal(0.0, 10.0, size=(16, n_features)),
        np.zeros((1, n_features)),
    ]
    if sample is not None and sample.ndim == 2 and sample.shape[1] == n_features:
        rows.insert(0, sample)
    return np.vstack(rows)


def agrees(fast: FastPredict, estimator: Any, rows: FloatArray) -> bool:
    """Whether ``fast`` reproduces ``estimator.predict`` on ``rows`` (one and all at once)."""
    want = np.asarray(estimator.predict(rows), dtype=np.float64).reshape(-1)
    got_all = fast(rows)
    got_each = np.concatenate([fast(rows[i : i + 1]) for i in range(len(rows))])
    return bool(
        got_all.shape == want.shape
        and np.allclose(got_all, want, rtol=_RTOL, atol=_ATOL)
        and np.allclose(got_each, want, rtol=_RTOL, atol=_ATOL)
    )
