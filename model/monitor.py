"""Step `monitor`: the serving model's training rows vs the collected production window.

    python -m model.monitor --model <model folder> --collected <folder> --output <folder> \\
        [--reference-data CSV ...] [--labels CSV] [--config config/monitor.yaml] \\
        [--window-hours H] [--offline-rmse X --offline-mae Y]

The reference is the data file whose SHA-256 is the model's lineage ``data_hash``, split as the
train step split it (``params.test_size``, ``params.seed`` of ``metadata.json``). The window is
the collected rows of the model's version. Per feature: a drift statistic (config/monitor.yaml),
the out-of-range rate (model/schema.py's ranges) and the missing rate; the predictions' drift
against the model's predictions on its training rows; with labels, live RMSE and MAE against
the offline ones. Writes ``summary.json``, ``index.html``, ``plots/*.png`` and the window as
``production.parquet`` to ``--output``; exit 0 whether or not it drifted (``summary.json``
says), 1 with one ``error:`` line when it cannot compare.
"""

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import drift
from model.artifact import load_estimator, read_metadata
from model.monitor_config import (
    DEFAULT_MONITOR_CONFIG,
    DriftSettings,
    MonitorConfigError,
    load_monitor_config,
)
from model.monitor_data import MonitorError, find_reference, load_collected, load_labels, training_rows
from model.monitor_report import PLOTS_DIR, save_plot, write_index
from model.params import load_params
from model.schema import FEATURE_RULES, FEATURES
from model.step import run_step

SUMMARY_FILE = "summary.json"
WINDOW_FILE = "production.parquet"


def feature_drift(
    reference: pd.DataFrame, production: pd.DataFrame, settings: DriftSettings
) -> list[dict[str, Any]]:
    """One record per feature: statistic, threshold, rates, and whether it drifted."""
    results = []
    for rule in FEATURE_RULES:
        ref = reference[rule.name].to_numpy(dtype=np.float64)
        prod = production[rule.name].to_numpy(dtype=np.float64)
        value, bins = drift.drift(
            ref,
            prod,
            statistic=settings.statistic,
            bins=settings.bins,
            categorical_max_values=settings.categorical_max_values,
        )
        out_of_range = drift.out_of_range_rate(prod, rule.low, rule.high)
        results.append(
            {
                "name": rule.name,
                "kind": bins.kind,
                "value": value,
                "threshold": settings.threshold,
                "out_of_range_rate": out_of_range,
                "missing_rate": drift.missing_rate(prod),
                "reference_mean": float(np.nanmean(ref)),
                "production_mean": float(np.nanmean(prod)) if len(prod) else None,
                "drift": value > settings.threshold or out_of_range > settings.max_out_of_range_rate,
            }
        )
    return results


def performance(
    production: pd.DataFrame, labels: pd.DataFrame, offline: dict[str, float | None], tolerance: float
) -> dict[str, Any]:
    """Live RMSE and MAE on the labelled production rows, beside the offline metrics."""
    joined = production.merge(labels, on=["request_id", "row"], how="inner")
    if joined.empty:
        raise MonitorError(
            "no labelled row matches a collected row in the window (labels join on request_id and row)"
        )
    error = joined["prediction"].to_numpy() - joined["target"].to_numpy(dtype=np.float64)
    live = {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}
    degraded = any(
        (base := offline.get(k)) is not None and live[k] > base * (1 + tolerance) for k in ("rmse", "mae")
    )
    return {
        "labelled_rows": len(joined),
        **live,
        "offline_rmse": offline.get("rmse"),
        "offline_mae": offline.get("mae"),
        "degraded": degraded,
    }


def analyse(
    reference: pd.DataFrame,
    reference_predictions: np.ndarray,
    production: pd.DataFrame,
    settings: DriftSettings,
) -> dict[str, Any]:
    """Feature and prediction drift of ``production`` against ``reference`` (no I/O)."""
    if len(production) < settings.min_rows:
        raise MonitorError(
            f"the production window has {len(production)} rows, fewer than drift.min_rows "
            f"({settings.min_rows}, config/monitor.yaml): send more traffic or widen the window"
        )
    features = feature_drift(reference, production, settings)
    value, _ = drift.drift(
        reference_predictions,
        production["prediction"].to_numpy(dtype=np.float64),
        statistic=settings.statistic,
        bins=settings.bins,
        categorical_max_values=0,
    )
    prediction = {"value": value, "threshold": settings.prediction_threshold}
    prediction["drift"] = value > settings.prediction_threshold
    drifted = [f["name"] for f in features if f["drift"]] + (["prediction"] if prediction["drift"] else [])
    return {
        "statistic": settings.statistic,
        "features": features,
        "prediction": prediction,
        "drifted": drifted,
        "drift": bool(drifted),
    }


def _plots(
    summary: dict[str, Any],
    reference: pd.DataFrame,
    ref_pred: np.ndarray,
    production: pd.DataFrame,
    out: Path,
) -> None:
    folder = out / PLOTS_DIR
    for f in summary["features"]:
        caption = f"{f['value']:.3g} {'> ' if f['drift'] else '<= '}{f['threshold']:.3g}"
        ref, prod = reference[f["name"]].to_numpy(), production[f["name"]].to_numpy()
        f["plot"] = save_plot(f["name"], ref, prod, caption, folder).relative_to(out).as_posix()
    p = summary["prediction"]
    caption = f"{p['value']:.3g} {'> ' if p['drift'] else '<= '}{p['threshold']:.3g}"
    p["plot"] = (
        save_plot("prediction", ref_pred, production["prediction"].to_numpy(), caption, folder)
        .relative_to(out)
        .as_posix()
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model.monitor", description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the serving model's folder")
    parser.add_argument("--collected", type=Path, required=True, help="the collection folder")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--reference-data", type=Path, action="append", default=[])
    parser.add_argument("--labels", type=Path)
    parser.add_argument("--config", type=Path, default=DEFAULT_MONITOR_CONFIG)
    parser.add_argument("--window-hours", type=float)
    parser.add_argument("--model-version", help="the serving version (rows of other versions are left out)")
    parser.add_argument("--offline-rmse", type=float)
    parser.add_argument("--offline-mae", type=float)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Compare, write the report, print the verdict."""
    args = _parser().parse_args(argv)
    settings = load_monitor_config(args.config).drift
    hours = args.window_hours if args.window_hours is not None else settings.window_hours
    if hours is not None and hours <= 0:
        raise MonitorError(f"--window-hours must be above 0, got {hours}")
    metadata = read_metadata(args.model)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours) if hours is not None else None
    production = load_collected(args.collected, since=since, model_version=args.model_version)
    data_hash = metadata["lineage"]["data_hash"]
    source = find_reference([*args.reference_data, load_params().data_path], data_hash)
    reference = training_rows(source, metadata)
    ref_pred = np.asarray(load_estimator(args.model).predict(reference[list(FEATURES)].to_numpy()))

    summary = analyse(reference, ref_pred, production, settings)
    if args.labels is not None:
        offline = {"rmse": args.offline_rmse, "mae": args.offline_mae}
        summary["performance"] = performance(
            production, load_labels(args.labels), offline, settings.max_metric_increase
        )
        if summary["performance"]["degraded"]:
            summary["drifted"].append("performance")
            summary["drift"] = True
    else:
        summary["performance"] = None
    summary["model"] = {"name": metadata["name"], "version": args.model_version, "data_hash": data_hash}
    summary["reference"] = {"rows": len(reference), "source": str(source)}
    summary["window"] = {
        "rows": len(production),
        "requests": int(production["request_id"].nunique()),
        "from": str(production["time"].min()),
        "to": str(production["time"].max()),
        "hours": hours,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    _plots(summary, reference, ref_pred, production, args.output)
    production.to_parquet(args.output / WINDOW_FILE, index=False)
    write_index(summary, args.output)
    (args.output / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    verdict = f"drift in {', '.join(summary['drifted'])}" if summary["drift"] else "no drift"
    print(f"{verdict}: {len(production)} production rows vs {len(reference)} training rows; {args.output}")
    return 0


def run(argv: list[str] | None = None) -> int:
    """``main`` with the monitor's expected failures, like every step's, as one ``error:`` line."""
    try:
        return run_step(lambda: main(argv))
    except (MonitorError, MonitorConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(run())
