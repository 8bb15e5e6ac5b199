"""Load a model folder (see "Model artifact contract" in docs/architecture.md) without MLflow.

The checks run cheapest first, so that a wrong folder or a wrong scikit-learn version fails in
milliseconds with a message that says what to do, before scikit-learn is even imported:

1. the folder exists and holds ``metadata.json`` and ``estimator.joblib``
   (directly, or in its only sub-folder: the ``AZUREML_MODEL_DIR`` convention);
2. ``metadata.json`` is valid and lists the features;
3. the scikit-learn that trained the model is the one installed here;
4. the estimator unpickles, expects as many features as the metadata lists, and reproduces
   the predictions recorded in ``metadata.json``'s ``sample``.

``estimator.joblib`` is a pickle: load only model folders you trust (your own registry).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from scoring import fastpath
from scoring.contract import ESTIMATOR_FILE, METADATA_FILE
from scoring.fastpath import FastPredict

# How far the sample predictions may drift after a reload (same library, same machine: none).
_SAMPLE_RTOL = 1e-9
_SAMPLE_ATOL = 1e-9


class ModelLoadError(RuntimeError):
    """The model folder cannot be served; the message says why and what to do."""


class Predictor(Protocol):
    def predict(self, rows: npt.NDArray[np.float64], /) -> Any: ...


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A fitted estimator with the facts ``/metadata`` reports."""

    estimator: Predictor = field(repr=False)
    name: str
    version: str
    sklearn_version: str
    features: tuple[str, ...]
    target: str | None
    lineage: dict[str, Any]
    sample: dict[str, Any] | None
    path: Path
    loaded_at: str
    # True when the estimator was fitted on a DataFrame: predicting on an array is fine
    # (columns are in metadata order, checked at load) but scikit-learn warns each time.
    fitted_with_feature_names: bool = False
    # A classifier's classes (metadata.json's "classes", in predict_proba's column order) when
    # it has predict_proba: the answer then carries probabilities beside the class.
    classes: tuple[float, ...] | None = None
    # A NumPy evaluation of the pipeline (see fastpath.py), set only once it has been shown
    # to reproduce estimator.predict; None means estimator.predict serves every request.
    fast_predict: FastPredict | None = field(default=None, repr=False, compare=False)

    @property
    def predict_path(self) -> str:
        return "estimator" if self.fast_predict is None else "numpy"

    @property
    def n_features(self) -> int:
        return len(self.features)


def resolve_model_dir(path: Path) -> Path:
    """The folder holding the model files: ``path`` itself, or its only sub-folder.

    Azure ML mounts a registered model at ``$AZUREML_MODEL_DIR/<model folder name>/``,
    a local deploy points straight at the folder; both work.
    """
    if not path.is_dir():
        raise ModelLoadError(
            f"model folder {path} does not exist (AZUREML_MODEL_DIR): "
            "train and register a model first, or fix the path"
        )
    if (path / METADATA_FILE).is_file() or (path / ESTIMATOR_FILE).is_file():
        return path
    candidates = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(p.name for p in candidates) or "nothing"
    raise ModelLoadError(
        f"no model in {path}: expected {METADATA_FILE} and {ESTIMATOR_FILE} there or in its "
        f"only sub-folder, found {found}"
    )


def installed_sklearn_version() -> str:
    try:
        return version("scikit-learn")
    except PackageNotFoundError:  # pragma: no cover - scikit-learn is a hard dependency
        raise ModelLoadError("scikit-learn is not installed in this environment") from None


def read_metadata(model_dir: Path) -> dict[str, Any]:
    """Read and check ``metadata.json``; raise :class:`ModelLoadError` naming the problem."""
    meta_path = model_dir / METADATA_FILE
    if not meta_path.is_file():
        raise ModelLoadError(f"{meta_path} is missing: the model folder is incomplete")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{meta_path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelLoadError(f"{meta_path} must hold a JSON object")
    for key in ("name", "sklearn_version"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise ModelLoadError(f"{meta_path}: {key!r} must be a non-empty string")
    features = meta.get("features")
    if (
        not isinstance(features, list)
        or not features
        or not all(isinstance(f, str) and f for f in features)
        or len(set(features)) != len(features)
    ):
        raise ModelLoadError(f"{meta_path}: 'features' must be a non-empty list of unique names")
    if not isinstance(meta.get("lineage", {}), dict):
        raise ModelLoadError(f"{meta_path}: 'lineage' must be an object")
    return meta


def check_sklearn_version(trained_with: str, meta_path: Path) -> None:
    installed = installed_sklearn_version()
    if trained_with != installed:
        raise ModelLoadError(
            f"the model in {meta_path.parent} was trained with scikit-learn {trained_with}, "
            f"but scikit-learn {installed} is installed here: a pickled estimator is only "
            "reliable with the version that wrote it. Retrain with scikit-learn "
            f"{installed}, or serve it with an image pinned to scikit-learn {trained_with}."
        )


def load_model(
    model_dir: Path, *, name: str | None = None, version: str = "unknown", fast_path: bool = True
) -> LoadedModel:
    """Load and verify a model folder.

    Args:
        model_dir: the model folder, or a folder holding exactly one model folder.
        name: the registered name; ``None`` means ``metadata.json``'s name.
        version: the registered version (the deploy step knows it, training does not).
        fast_path: evaluate supported pipelines with NumPy (fastpath.py) once verified.

    Raises:
        ModelLoadError: the folder is missing, incomplete, from another scikit-learn version,
            or its estimator does not reproduce the recorded sample predictions.
    """
    folder = resolve_model_dir(model_dir)
    meta = read_metadata(folder)
    check_sklearn_version(meta["sklearn_version"], folder / METADATA_FILE)
    estimator_path = folder / ESTIMATOR_FILE
    if not estimator_path.is_file():
        raise ModelLoadError(f"{estimator_path} is missing: the model folder is incomplete")

    import joblib  # scikit-learn takes seconds to import: only after the cheap checks

    try:
        with warnings.catch_warnings():
            # scikit-learn warns (InconsistentVersionWarning) when a pickle comes from another
            # version; metadata.json may lie, so the pickle is checked too.
            warnings.simplefilter("error")
            estimator = joblib.load(estimator_path)
    except Exception as exc:
        raise ModelLoadError(f"cannot load {estimator_path}: {type(exc).__name__}: {exc}") from None
    if not callable(getattr(estimator, "predict", None)):
        raise ModelLoadError(f"{estimator_path} holds a {type(estimator).__name__}, not a model")

    features = tuple(meta["features"])
    n_in = getattr(estimator, "n_features_in_", None)
    if n_in is not None and n_in != len(features):
        raise ModelLoadError(
            f"{estimator_path} expects {n_in} features but {METADATA_FILE} lists {len(features)}"
        )
    names_in = getattr(estimator, "feature_names_in_", None)
    if names_in is not None and tuple(str(n) for n in names_in) != features:
        raise ModelLoadError(
            f"{estimator_path} was fitted on columns {list(names_in)}, "
            f"but {METADATA_FILE} lists {list(features)}"
        )
    sample = meta.get("sample")
    classes = _classes(meta, estimator, folder / METADATA_FILE)
    model = LoadedModel(
        estimator=estimator,
        name=name or meta["name"],
        version=version,
        sklearn_version=meta["sklearn_version"],
        features=features,
        target=meta.get("target") if isinstance(meta.get("target"), str) else None,
        lineage=meta.get("lineage", {}),
        sample=sample if isinstance(sample, dict) else None,
        path=folder,
        loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        fitted_with_feature_names=names_in is not None,
        classes=classes,
    )
    _check_sample(model, folder / METADATA_FILE)
    if fast_path:
        fast = fastpath.compile_predictor(estimator)
        sample_rows = _sample_rows(model)
        if fast is not None and fastpath.agrees(
            fast, estimator, fastpath.probe_rows(model.n_features, sample_rows)
        ):
            # Its own error state, as a decorator: cheaper per call than a with block.
            model = replace(model, fast_predict=np.errstate(all="ignore")(fast))
    return model


def _classes(meta: dict[str, Any], estimator: Any, meta_path: Path) -> tuple[float, ...] | None:
    """metadata.json's classes, checked against the estimator's, if it predicts probabilities."""
    listed = meta.get("classes")
    if listed is None or not callable(getattr(estimator, "predict_proba", None)):
        return None
    try:
        classes = tuple(float(c) for c in listed)
        own = tuple(float(c) for c in getattr(estimator, "classes_", ()))
    except (TypeError, ValueError):
        raise ModelLoadError(f"{meta_path}: 'classes' must be a list of numbers") from None
    if classes != own:
        raise ModelLoadError(
            f"{meta_path}: 'classes' {list(classes)} differ from the estimator's {list(own)}"
        )
    return classes


def predict_proba(model: LoadedModel, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per row, the probability of each of ``model.classes`` (a classifier's answer beside the class)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        out = model.estimator.predict_proba(rows)  # type: ignore[attr-defined]
    return np.asarray(out, dtype=np.float64)


def _sample_rows(model: LoadedModel) -> npt.NDArray[np.float64] | None:
    if model.sample is None:
        return None
    return np.asarray(model.sample["data"], dtype=np.float64)


def predict(model: LoadedModel, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Predict one value per row; ``rows`` has already been validated (finite, right width)."""
    if model.fast_predict is not None:  # a float64 vector, computed with errors ignored
        return model.fast_predict(rows)
    with np.errstate(all="ignore"):
        if model.fitted_with_feature_names:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="X does not have valid feature names")
                out = model.estimator.predict(rows)
        else:
            out = model.estimator.predict(rows)
    return np.asarray(out, dtype=np.float64).reshape(-1)


def _check_sample(model: LoadedModel, meta_path: Path) -> None:
    """Predict the recorded sample rows and compare: catches a mismatched or corrupt folder."""
    if model.sample is None:
        return
    data, expected = model.sample.get("data"), model.sample.get("result")
    try:
        rows = np.asarray(data, dtype=np.float64)
        want = np.asarray(expected, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        message = f"{meta_path}: 'sample' must hold numeric 'data' and 'result'"
        raise ModelLoadError(message) from None
    if rows.ndim != 2 or rows.shape[1] != model.n_features or rows.shape[0] != want.shape[0]:
        raise ModelLoadError(
            f"{meta_path}: 'sample' must hold rows of {model.n_features} numbers and one result per row"
        )
    try:
        got = predict(model, rows)
    except Exception as exc:
        raise ModelLoadError(
            f"the estimator cannot predict the sample in {meta_path}: {type(exc).__name__}: {exc}"
        ) from None
    bad = [
        i
        for i, (g, w) in enumerate(zip(got.tolist(), want.tolist(), strict=True))
        if not math.isclose(g, w, rel_tol=_SAMPLE_RTOL, abs_tol=_SAMPLE_ATOL)
    ]
    if bad:
        i = bad[0]
        raise ModelLoadError(
            f"the estimator does not reproduce the sample in {meta_path}: row {i} expected "
            f"{want[i]!r}, got {got[i]!r} ({len(bad)} of {len(want)} rows differ)"
        )
    if model.classes is not None and "probabilities" in model.sample:
        try:
            expected_proba = np.asarray(model.sample["probabilities"], dtype=np.float64)
        except (TypeError, ValueError):
            raise ModelLoadError(f"{meta_path}: 'sample.probabilities' must hold numbers") from None
        got_proba = predict_proba(model, rows)
        if expected_proba.shape != got_proba.shape or not np.allclose(
            got_proba, expected_proba, rtol=_SAMPLE_RTOL, atol=_SAMPLE_ATOL
        ):
            raise ModelLoadError(f"the estimator does not reproduce the sample probabilities in {meta_path}")
