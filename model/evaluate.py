"""Pipeline step `evaluate`: challenger vs champion on the same held-out rows, the gate's decision, plots."""

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.pipeline import Pipeline

from model import artifact, tracking
from model.gate import decide
from model.outputs import REPORT_FILE, TEST_FILE
from model.params import load_params
from model.paths import DEFAULT_PARAMS
from model.schema import FEATURES, TARGET
from model.step import run_step

LATENCY_CALLS = 100
LATENCY_ROUNDS = 5


def quality(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R² of predictions."""
    return {
        "rmse": float(root_mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r2": float(r2_score(y_true, y_pred)),
    }


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


def measure(model: Pipeline, test: pd.DataFrame) -> dict[str, float]:
    """All metrics of one model on the held-out rows."""
    features = test[list(FEATURES)].to_numpy()
    metrics = quality(test[TARGET].to_numpy(), model.predict(features))
    metrics["latency_p99_ms"] = latency_p99_ms(model, features)
    return metrics


def save_plots(y_true: np.ndarray, y_pred: np.ndarray, folder: Path) -> list[Path]:
    """Predicted-vs-actual and residual plots as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
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


def evaluate(
    challenger_dir: Path,
    test: pd.DataFrame,
    champion_dir: Path | None,
    params_path: Path,
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """The evaluation report: both models' metrics and the gate's decision."""
    gate = load_params(params_path, overrides).gate
    challenger = measure(artifact.load_estimator(challenger_dir), test)
    champion = None
    champion_info = None
    if champion_dir is not None:
        champion = measure(artifact.load_estimator(champion_dir), test)
        champion_info = artifact.read_metadata(champion_dir)
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
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS)
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
    estimator = artifact.load_estimator(args.model)
    y_true = test[TARGET].to_numpy()
    plots = save_plots(y_true, estimator.predict(test[list(FEATURES)].to_numpy()), args.report_output)

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
