"""Pipeline step `evaluate`: challenger vs champion on the same held-out rows, the gate's decision, plots."""

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from model import artifact, tracking
from model.gate import decide
from model.outputs import REPORT_FILE, TEST_FILE
from model.params import Params, ParamsError, load_params
from model.schema import schema_of
from model.step import run_step

LATENCY_CALLS = 100
LATENCY_ROUNDS = 5


class ChampionMismatch(ParamsError):
    """The champion was trained for another schema or task: it cannot judge this challenger."""


def regression_quality(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R² of predictions."""
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    return {
        "rmse": float(root_mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r2": float(r2_score(y_true, y_pred)),
    }


quality = regression_quality


def classification_quality(model: Any, features: np.ndarray, y_true: np.ndarray) -> dict[str, float]:
    """Accuracy and F1 (binary: of the second class; more classes: macro), and with probabilities
    ROC AUC (more classes: one-vs-rest) and log loss."""
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    classes = np.asarray(model.classes_)
    y_pred = model.predict(features)
    binary = len(classes) == 2
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1": float(
            f1_score(y_true, y_pred, average="binary", pos_label=classes[1])
            if binary
            else f1_score(y_true, y_pred, average="macro")
        ),
    }
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(features)
        scores = proba[:, 1] if binary else proba
        metrics["roc_auc"] = float(roc_auc_score(y_true, scores, multi_class="ovr", labels=classes))
        metrics["log_loss"] = float(log_loss(y_true, proba, labels=classes))
    return metrics


def latency_p99_ms(
    model: Pipeline, features: np.ndarray, calls: int = LATENCY_CALLS, rounds: int = LATENCY_ROUNDS
) -> float:
    """p99 wall time of single-row predict calls in milliseconds: the median over ``rounds``.

    One round's p99 is at the mercy of whatever else the machine does; the median of several
    rounds keeps the gate's latency budget about the model, not about a noisy neighbour.
    """
    model.predict(features[:1])
    per_round = []
    for _ in range(rounds):
        timings = []
        for index in range(calls):
            row = features[index % len(features)].reshape(1, -1)
            start = time.perf_counter()
            model.predict(row)
            timings.append((time.perf_counter() - start) * 1000)
        per_round.append(float(np.percentile(timings, 99)))
    return float(np.median(per_round))


def measure(model: Pipeline, test: pd.DataFrame, params: Params) -> dict[str, float]:
    """All metrics of one model on the held-out rows: the task's quality metrics and latency."""
    schema = schema_of(params)
    features = test[list(schema.features)].to_numpy()
    y_true = test[schema.target].to_numpy()
    if params.task == "classification":
        metrics = classification_quality(model, features, y_true)
    else:
        metrics = regression_quality(y_true, model.predict(features))
    metrics["latency_p99_ms"] = latency_p99_ms(model, features)
    return metrics


def save_plots(model: Any, test: pd.DataFrame, params: Params, folder: Path) -> list[Path]:
    """The task's plots as PNG files: predicted vs actual and residuals (regression), confusion
    matrix and, with probabilities of two classes, the ROC curve (classification)."""
    import matplotlib

    matplotlib.use("Agg")
    schema = schema_of(params)
    features = test[list(schema.features)].to_numpy()
    y_true = test[schema.target].to_numpy()
    if params.task == "classification":
        return _classification_plots(model, features, y_true, folder)
    return _regression_plots(y_true, model.predict(features), folder)


def _classification_plots(model: Any, features: np.ndarray, y_true: np.ndarray, folder: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

    paths = []
    fig, ax = plt.subplots(figsize=(5, 5))
    ConfusionMatrixDisplay.from_predictions(y_true, model.predict(features), ax=ax, colorbar=False)
    ax.set(title="Confusion matrix (held-out)")
    paths.append(folder / "confusion_matrix.png")
    fig.savefig(paths[-1], dpi=90, bbox_inches="tight")
    plt.close(fig)
    if hasattr(model, "predict_proba") and len(model.classes_) == 2:
        fig, ax = plt.subplots(figsize=(5, 5))
        RocCurveDisplay.from_predictions(
            y_true, model.predict_proba(features)[:, 1], pos_label=model.classes_[1], ax=ax
        )
        ax.set(title="ROC curve (held-out)")
        paths.append(folder / "roc_curve.png")
        fig.savefig(paths[-1], dpi=90, bbox_inches="tight")
        plt.close(fig)
    return paths


def _regression_plots(y_true: np.ndarray, y_pred: np.ndarray, folder: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(y_true, y_pred, s=12, alpha=0.7)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1)
    ax.set(xlabel="actual", ylabel="predicted", title="Predicted vs actual (held-out)")
    paths.append(folder / "predicted_vs_actual.png")
    fig.savefig(paths[-1], dpi=90, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(y_pred, y_true - y_pred, s=12, alpha=0.7)
    ax.axhline(0, color="grey", linestyle="--", linewidth=1)
    ax.set(xlabel="predicted", ylabel="residual (actual - predicted)", title="Residuals")
    paths.append(folder / "residuals.png")
    fig.savefig(paths[-1], dpi=90, bbox_inches="tight")
    plt.close(fig)
    return paths


def check_compatible(champion: dict[str, Any], params: Params) -> None:
    """Refuse a champion trained for another task, features or target, in one line with the way out."""
    schema = schema_of(params)
    theirs: dict[str, Any] = {
        "task": champion.get("task", "regression"),
        "features": list(champion.get("features", [])),
        "target": champion.get("target"),
    }
    ours: dict[str, Any] = {"task": params.task, "features": list(schema.features), "target": schema.target}
    differ = [key for key in ours if theirs[key] != ours[key]]
    if differ:
        key = differ[0]
        raise ChampionMismatch(
            f"the champion of model_name '{params.model_name}' was trained for another use case "
            f"({key}: {theirs[key]} vs {ours[key]}): give this use case a new model_name, "
            "or start the local registry afresh with `make clean`"
        )


def evaluate(
    challenger_dir: Path,
    test: pd.DataFrame,
    champion_dir: Path | None,
    params_path: Path | None,
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """The evaluation report: both models' metrics and the gate's decision."""
    params = load_params(params_path, overrides)
    gate = params.gate
    challenger = measure(artifact.load_estimator(challenger_dir), test, params)
    champion = None
    champion_info = None
    if champion_dir is not None:
        champion_info = artifact.read_metadata(champion_dir)
        check_compatible(champion_info, params)
        champion = measure(artifact.load_estimator(champion_dir), test, params)
    decision = decide(challenger, champion, gate)
    return {
        "challenger": challenger,
        "champion": champion,
        "champion_model": champion_info
        and {
            "name": champion_info.get("name"),
            "run_id": champion_info.get("lineage", {}).get("run_id"),
            "trained_at": champion_info.get("lineage", {}).get("trained_at"),
        },
        "gate": gate.model_dump(),
        "decision": decision.to_dict(),
        "rows": len(test),
    }


def main(argv: list[str] | None = None) -> int:
    """Evaluate ``--model`` (and ``--champion`` if given) and write ``--report-output``."""
    parser = argparse.ArgumentParser(prog="python -m model.evaluate", description=main.__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--test-data", type=Path, required=True)
    parser.add_argument("--champion", type=Path)
    parser.add_argument("--params", type=Path, help="the use-case file (default: config/usecase.yaml)")
    parser.add_argument("--min-improvement", type=float)
    parser.add_argument("--latency-budget-ms", type=float)
    parser.add_argument("--report-output", type=Path, required=True)
    args = parser.parse_args(argv)

    test = pd.read_csv(args.test_data / TEST_FILE)
    overrides = {
        "gate.min_improvement": args.min_improvement,
        "gate.latency_budget_ms": args.latency_budget_ms,
    }
    report = evaluate(args.model, test, args.champion, args.params, overrides)
    args.report_output.mkdir(parents=True, exist_ok=True)
    (args.report_output / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    params = load_params(args.params, overrides)
    plots = save_plots(artifact.load_estimator(args.model), test, params, args.report_output)

    with tracking.step_run() as run:
        if run:
            import mlflow

            mlflow.log_metrics({f"challenger.{k}": v for k, v in report["challenger"].items()})
            if report["champion"]:
                mlflow.log_metrics({f"champion.{k}": v for k, v in report["champion"].items()})
            mlflow.set_tag("gate.decision", "register" if report["decision"]["register"] else "keep")
            mlflow.set_tag("gate.reason", report["decision"]["reason"])
            for plot in plots:
                mlflow.log_artifact(str(plot), "plots")
    print(report["decision"]["reason"])
    return 0


if __name__ == "__main__":
    raise SystemExit(run_step(main))
