"""The drift monitor step: statistics, verdicts, the report, and one clear line for each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from model import drift
from model.data import load_csv
from model.hashing import file_sha256
from model.monitor import run
from model.params import TrainParams, load_params
from model.schema import FEATURES
from model.train import fit, split
from scoring.collector import Collector
from tests.model_folders import MODEL_NAME

BUNDLED_CSV = load_params().data_path  # the default use case's data


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on the bundled data's seeded split, with the lineage the monitor follows."""
    folder = tmp_path_factory.mktemp("model")
    train, _ = split(load_csv(BUNDLED_CSV), TrainParams())
    joblib.dump(fit(train, load_params()), folder / "estimator.joblib")
    metadata = {
        "name": MODEL_NAME,
        "lineage": {"data_hash": file_sha256(BUNDLED_CSV), "run_id": "r"},
        "params": TrainParams().model_dump(),
    }
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


@pytest.fixture(scope="module")
def held_out() -> pd.DataFrame:
    return split(load_csv(BUNDLED_CSV), TrainParams())[1]


def collect(
    folder: Path, model_folder: Path, rows: pd.DataFrame, shift: dict[str, float] | None = None
) -> None:
    """What the scoring service would have written for ``rows`` (10 per request)."""
    estimator = joblib.load(model_folder / "estimator.joblib")
    x = rows[list(FEATURES)].to_numpy(dtype=np.float64)
    for name, amount in (shift or {}).items():
        x[:, FEATURES.index(name)] += amount
    c = Collector(
        folder,
        rate=1.0,
        features=FEATURES,
        model_version="1",
        max_queue=1000,
        max_bytes=1 << 30,
        flush_s=0.05,
    )
    for start in range(0, len(x), 10):
        c.offer(x[start : start + 10], estimator.predict(x[start : start + 10]), f"req-{start // 10}")
    c.close()


def monitor(model_folder: Path, collected: Path, out: Path, *extra: str) -> int:
    argv = ["--model", str(model_folder), "--collected", str(collected), "--output", str(out)]
    return run([*argv, "--model-version", "1", *extra])


def test_psi_is_zero_for_the_same_sample_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 2000)
    settings = {"bins": 10, "categorical_max_values": 10}
    same, _ = drift.drift(x, x, statistic="population_stability_index", **settings)
    shifted, bins = drift.drift(x, x + 2, statistic="population_stability_index", **settings)
    assert same == pytest.approx(0.0, abs=1e-12)
    assert shifted > 1.0 and bins.kind == "numeric"
    js, _ = drift.drift(x, x + 2, statistic="jensen_shannon_distance", **settings)
    assert 0.5 < js <= 1.0


def test_a_feature_with_few_values_is_compared_by_value() -> None:
    ref = np.array([1.0, 2.0] * 50)
    value, bins = drift.drift(
        ref,
        np.array([1.0] * 90 + [2.0] * 10),
        statistic="population_stability_index",
        bins=10,
        categorical_max_values=10,
    )
    assert bins.kind == "categorical" and bins.values == (1.0, 2.0)
    assert value > 0.25
    unseen = drift.shares(np.array([1.0, 3.0]), bins)
    assert unseen.tolist() == [0.5, 0.0, 0.5]  # a value the training data never had has its own bin


def test_rates_of_missing_and_out_of_range_values() -> None:
    values = np.array([np.nan, 5.0, 100.0, 50.0])
    assert drift.missing_rate(values) == 0.25
    assert drift.out_of_range_rate(values, 10, 80) == pytest.approx(2 / 3)


def test_held_out_traffic_does_not_drift_and_a_shift_does_with_plots(
    model_folder: Path, held_out: pd.DataFrame, tmp_path: Path
) -> None:
    collected = tmp_path / "collected"
    collect(collected, model_folder, held_out)
    assert monitor(model_folder, collected, tmp_path / "calm") == 0
    calm = json.loads((tmp_path / "calm" / "summary.json").read_text())
    assert not calm["drift"] and calm["drifted"] == []
    assert calm["window"]["rows"] == len(held_out) and calm["reference"]["rows"] == 353

    collect(collected, model_folder, held_out, shift={"bmi": 8})
    assert monitor(model_folder, collected, tmp_path / "mixed") == 0
    mixed = json.loads((tmp_path / "mixed" / "summary.json").read_text())
    assert mixed["drifted"] == ["bmi"]  # half the window shifted: the feature, not yet the predictions

    only_shifted = tmp_path / "only-shifted"
    collect(only_shifted, model_folder, held_out, shift={"bmi": 8})
    out = tmp_path / "shifted"
    assert monitor(model_folder, only_shifted, out) == 0
    shifted = json.loads((out / "summary.json").read_text())
    assert shifted["drift"] and shifted["drifted"] == ["bmi", "prediction"]
    assert {f["name"] for f in shifted["features"] if f["drift"]} == {"bmi"}
    for record in [*shifted["features"], shifted["prediction"]]:
        assert (out / record["plot"]).read_bytes().startswith(b"\x89PNG")
    index = (out / "index.html").read_text()
    assert "DRIFT: bmi, prediction" in index and "plots/bmi.png" in index
    window = pd.read_parquet(out / "production.parquet")
    assert len(window) == len(held_out) and {"request_id", "row", "prediction"} <= set(window.columns)


def test_labels_give_live_error_beside_the_offline_one(
    model_folder: Path, held_out: pd.DataFrame, tmp_path: Path
) -> None:
    collected = tmp_path / "collected"
    collect(collected, model_folder, held_out)
    labels = pd.DataFrame(
        {
            "request_id": [f"req-{i // 10}" for i in range(len(held_out))],
            "row": [i % 10 for i in range(len(held_out))],
            "target": held_out["target"].to_numpy(),
        }
    )
    labels.to_csv(tmp_path / "labels.csv", index=False)
    extra = ("--labels", str(tmp_path / "labels.csv"), "--offline-rmse", "54", "--offline-mae", "44")
    assert monitor(model_folder, collected, tmp_path / "out", *extra) == 0
    perf = json.loads((tmp_path / "out" / "summary.json").read_text())["performance"]
    estimator = joblib.load(model_folder / "estimator.joblib")
    error = estimator.predict(held_out[list(FEATURES)].to_numpy()) - held_out["target"].to_numpy()
    assert perf["labelled_rows"] == len(held_out)
    assert perf["rmse"] == pytest.approx(float(np.sqrt(np.mean(error**2))))
    assert perf["mae"] == pytest.approx(float(np.mean(np.abs(error))))
    assert (perf["offline_rmse"], perf["offline_mae"]) == (54, 44)
    assert perf["degraded"] == (perf["rmse"] > 54 * 1.25 or perf["mae"] > 44 * 1.25)


def test_bad_inputs_give_one_line_and_exit_1(
    model_folder: Path, held_out: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def error_of(*args: str, collected: Path) -> str:
        capsys.readouterr()
        assert monitor(model_folder, collected, tmp_path / "out", *args) == 1
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        return lines[0]

    empty = tmp_path / "empty"
    assert "no collected data yet in" in error_of(collected=empty)

    few = tmp_path / "few"
    collect(few, model_folder, held_out.head(20))
    assert "the production window has 20 rows, fewer than drift.min_rows (50" in error_of(collected=few)

    corrupt = tmp_path / "corrupt"
    collect(corrupt, model_folder, held_out)
    (corrupt / "20990101T000000-bad.npz").write_bytes(b"not a zip archive")
    message = error_of(collected=corrupt)
    assert "collection file" in message and "20990101T000000-bad.npz is corrupt" in message
    assert (corrupt / "20990101T000000-bad.npz").exists()  # nothing is deleted

    other = tmp_path / "other-data.csv"
    other.write_text(BUNDLED_CSV.read_text() + "\n")  # the same rows, another file hash
    unknown = model_folder.parent / "model-other-lineage"
    unknown.mkdir(exist_ok=True)
    (unknown / "estimator.joblib").write_bytes((model_folder / "estimator.joblib").read_bytes())
    metadata = json.loads((model_folder / "metadata.json").read_text())
    metadata["lineage"]["data_hash"] = file_sha256(other)
    (unknown / "metadata.json").write_text(json.dumps(metadata))
    capsys.readouterr()
    argv = [
        "--model",
        str(unknown),
        "--collected",
        str(corrupt.parent / "few"),
        "--output",
        str(tmp_path / "o"),
    ]
    assert run(argv) == 1
    assert "the serving model's training data (sha256:" in capsys.readouterr().err
    assert run([*argv, "--reference-data", str(other)]) == 1  # found; then too few rows

    (tmp_path / "labels.csv").write_text("id,value\n1,2\n")
    collected = tmp_path / "collected"
    collect(collected, model_folder, held_out)
    assert "needs the columns request_id and target" in error_of(
        "--labels", str(tmp_path / "labels.csv"), collected=collected
    )


def test_an_invalid_config_names_the_key(
    model_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("drift:\n  statistic: wasserstein\n")
    assert monitor(model_folder, tmp_path, tmp_path / "out", "--config", str(config)) == 1
    assert "invalid 'drift.statistic'" in capsys.readouterr().err


def test_a_classifiers_reference_is_its_stratified_training_split(tmp_path: Path) -> None:
    from model.monitor_data import training_rows

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x1": rng.normal(size=120), "x2": rng.normal(size=120)})
    frame["label"] = (np.arange(120) % 5 == 0).astype(float)  # 20 % of one class
    frame.to_csv(tmp_path / "clf.csv", index=False)
    params = TrainParams(test_size=0.25, seed=3)
    metadata = {
        "task": "classification",
        "features": ["x1", "x2"],
        "target": "label",
        "params": params.model_dump(),
    }
    loaded = load_csv(tmp_path / "clf.csv", ("x1", "x2", "label"))
    stratified, _ = split(loaded, params, loaded["label"])
    plain, _ = split(loaded, params)
    rows = training_rows(tmp_path / "clf.csv", metadata)
    pd.testing.assert_frame_equal(rows, stratified.reset_index(drop=True))
    assert not rows.equals(plain.reset_index(drop=True))  # the split the train step did not make
