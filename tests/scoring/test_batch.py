"""Batch scoring (scoring/batch/): the online service's rules and predictions applied to files.

Tiny frames, in-process; one test runs ``python -m scoring.batch`` and stops it with SIGTERM.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from pipelines.paths import REPO_ROOT as ROOT
from scoring.batch import frame
from scoring.batch.run import MODEL_NAME_KEY, MODEL_VERSION_KEY, main, score_files
from scoring.batch.tables import BatchInputError, input_files
from scoring.model_loader import LoadedModel, load_model
from tests.model_folders import FEATURES, MODEL_NAME, build_classifier_dir, bundled


@pytest.fixture(scope="module")
def model(model_dir: Path) -> LoadedModel:
    return load_model(model_dir, version="3")


def table(n: int, start: int = 0) -> pa.Table:
    """``n`` rows of the default use case's features (rows ``start``...) and an ``id`` column."""
    x, _ = bundled()
    rows = x[start : start + n]
    return pa.table({"id": np.arange(start, start + n), **{f: rows[:, j] for j, f in enumerate(FEATURES)}})


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def rejects_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def no_temporaries(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if ".partial-" in p.name]


def test_scores_every_row_in_order_with_the_online_services_predictions(
    model: LoadedModel, client: Any, tmp_path: Path
) -> None:
    source = table(300)
    pq.write_table(source, tmp_path / "in.parquet")
    summary = score_files([tmp_path / "in.parquet"], tmp_path / "out.parquet", model, batch_rows=64)
    out = pq.read_table(tmp_path / "out.parquet")
    assert (summary.rows_read, summary.rows_scored, summary.rows_rejected) == (300, 300, 0)
    assert out.column("id").to_pylist() == list(range(300))  # order and count kept
    assert out.column_names == [*source.column_names, "prediction"]
    rows = [[source.column(f)[i].as_py() for f in FEATURES] for i in range(300)]
    online = client.post("/score", json={"data": rows}).json()["result"]
    assert out.column("prediction").to_pylist() == online  # the same floats, not just close
    metadata = out.schema.metadata
    assert metadata[MODEL_NAME_KEY.encode()] == MODEL_NAME.encode()
    assert metadata[MODEL_VERSION_KEY.encode()] == b"3"
    assert rejects_of(tmp_path / "out.rejects.csv") == []


def test_rows_the_online_service_refuses_go_to_the_rejects_file_with_row_and_reason(
    model: LoadedModel, client: Any, tmp_path: Path
) -> None:
    x, _ = bundled()
    good = [str(v) for v in x[0]]
    rows = [
        ["a", *good],
        ["b", *good[:2], "high", *good[3:]],  # not a number
        ["c", *good[:4], "nan", *good[5:]],  # not finite
        ["d", *good[:9], ""],  # empty
        ["e", *good],
        ["f", *good[:8], "1e308", *good[9:]],  # finite, but the prediction is not (s5: std < 1)
    ]
    write_csv(tmp_path / "in.csv", ["name", *FEATURES], rows)
    summary = score_files([tmp_path / "in.csv"], tmp_path / "out.csv", model)
    assert (summary.rows_read, summary.rows_scored, summary.rows_rejected) == (6, 2, 4)
    out = pa_csv.read_csv(tmp_path / "out.csv")
    assert out.column("name").to_pylist() == ["a", "e"]
    assert rejects_of(tmp_path / "out.rejects.csv") == [
        {"file": "in.csv", "row": "2", "reason": "column bmi is not a number"},
        {"file": "in.csv", "row": "3", "reason": "column s1 is not a finite number"},
        {"file": "in.csv", "row": "4", "reason": "column s6 is not a number"},
        {
            "file": "in.csv",
            "row": "6",
            "reason": "the model cannot score these rows: "
            "some values are far outside the range it was trained on",
        },
    ]
    # the online service refuses each of them, with the same words
    for i, reason in ((1, "column bmi is not a number"), (2, "column s1 is not a finite number")):
        body = "\n".join([",".join(FEATURES), ",".join(rows[i][1:])])
        answer = client.post("/score", content=body, headers={"content-type": "text/csv"}).json()
        assert reason in answer["error"]["message"]
    body = "\n".join([",".join(FEATURES), ",".join(rows[5][1:])])
    answer = client.post("/score", content=body, headers={"content-type": "text/csv"}).json()
    assert answer["error"]["code"] == "out_of_range"


def test_parquet_nulls_are_rejected_and_integers_are_scored(model: LoadedModel, tmp_path: Path) -> None:
    source = table(4)
    bmi = pa.array([25.0, None, 30.0, 22.0])
    source = source.set_column(source.column_names.index("bmi"), "bmi", bmi)
    source = source.set_column(source.column_names.index("age"), "age", pa.array([50, 60, 70, 80]))
    pq.write_table(source, tmp_path / "in.parquet")
    summary = score_files([tmp_path / "in.parquet"], tmp_path / "out.parquet", model)
    assert summary.rows_rejected == 1
    assert rejects_of(tmp_path / "out.rejects.csv")[0]["reason"] == "column bmi is not a number"
    assert pq.read_table(tmp_path / "out.parquet").column("age").to_pylist() == [50.0, 70.0, 80.0]


def test_a_folder_of_files_is_scored_in_name_order_into_one_output(
    model: LoadedModel, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(table(5, start=5), folder / "b.parquet")
    pq.write_table(table(5, start=0), folder / "a.parquet")
    (folder / "_SUCCESS").write_text("")
    files = input_files(folder)
    assert [p.name for p in files] == ["a.parquet", "b.parquet"]
    summary = score_files(files, tmp_path / "out.parquet", model)
    assert summary.files == 2
    assert pq.read_table(tmp_path / "out.parquet").column("id").to_pylist() == list(range(10))


def test_empty_input_writes_an_empty_output_with_the_columns(model: LoadedModel, tmp_path: Path) -> None:
    write_csv(tmp_path / "in.csv", ["id", *FEATURES], [])
    summary = score_files([tmp_path / "in.csv"], tmp_path / "out.parquet", model)
    out = pq.read_table(tmp_path / "out.parquet")
    assert (summary.rows_read, out.num_rows) == (0, 0)
    assert out.column_names == ["id", *FEATURES, "prediction"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("in.csv", "id,age,sex\n1,2,3\n", "missing column(s) bmi, bp, s1, s2, s3, s4, s5, s6"),
        ("in.csv", "", "is empty: a CSV file needs a header row"),
        ("in.parquet", "not parquet", "cannot read"),
        ("in.txt", "x", "unknown format .txt, expected .csv, .parquet, .pq"),
    ],
)
def test_bad_inputs_fail_with_one_line_and_leave_nothing(
    model: LoadedModel, tmp_path: Path, name: str, content: str, message: str
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(BatchInputError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        score_files(input_files(tmp_path / name), tmp_path / "out.parquet", model)
    assert "\n" not in str(error.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_missing_input_is_named(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="does not exist"):
        input_files(tmp_path / "nope.csv")


def test_a_boolean_feature_column_is_refused(model: LoadedModel, tmp_path: Path) -> None:
    source = table(2)
    source = source.set_column(source.column_names.index("sex"), "sex", pa.array([True, False]))
    pq.write_table(source, tmp_path / "in.parquet")
    with pytest.raises(frame.ColumnTypeError, match="column sex holds bool values"):
        score_files([tmp_path / "in.parquet"], tmp_path / "out.parquet", model)
    assert not (tmp_path / "out.parquet").exists()
    assert no_temporaries(tmp_path)


def test_an_interrupted_run_leaves_no_half_file_and_keeps_the_previous_output(
    model: LoadedModel, tmp_path: Path
) -> None:
    pq.write_table(table(200), tmp_path / "in.parquet")
    (tmp_path / "out.parquet").write_bytes(b"previous")

    def interrupt(rows: int, total: int | None) -> None:
        assert total == 200
        if rows >= 100:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        score_files(
            [tmp_path / "in.parquet"], tmp_path / "out.parquet", model, batch_rows=50, progress=interrupt
        )
    assert (tmp_path / "out.parquet").read_bytes() == b"previous"
    assert not (tmp_path / "out.rejects.csv").exists()
    assert no_temporaries(tmp_path)


def test_sigterm_stops_the_process_without_a_half_file(model_dir: Path, tmp_path: Path) -> None:
    pq.write_table(pa.concat_tables([table(400)] * 50), tmp_path / "in.parquet")  # 20,000 rows
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scoring.batch",
            "--model-dir",
            str(model_dir),
            "--input",
            str(tmp_path / "in.parquet"),
            "--output",
            str(tmp_path / "out.parquet"),
            "--batch-rows",
            "100",
            "--progress",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    first = json.loads(process.stdout.readline())  # scoring has started: one batch is done
    assert first == {"rows": 100, "total": 20_000}
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_main_exits_2_with_one_line_for_a_bad_input(model_dir: Path, tmp_path: Path, capsys: Any) -> None:
    write_csv(tmp_path / "in.csv", ["age"], [[1]])
    code = main(
        [
            "--model-dir",
            str(model_dir),
            "--input",
            str(tmp_path / "in.csv"),
            "--output",
            str(tmp_path / "o.csv"),
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'in.csv'}: missing column(s) sex, bmi")


def test_main_writes_the_summary(model_dir: Path, tmp_path: Path) -> None:
    pq.write_table(table(3), tmp_path / "in.parquet")
    code = main(
        [
            "--model-dir",
            str(model_dir),
            "--input",
            str(tmp_path / "in.parquet"),
            "--output",
            str(tmp_path / "o.parquet"),
            "--model-version",
            "9",
            "--summary-file",
            str(tmp_path / "s.json"),
        ]
    )
    assert code == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["rows_scored"] == 3
    assert summary["model_version"] == "9"


def test_reject_row_numbers_count_across_batches_and_files(model: LoadedModel, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, bad in (("a.parquet", 7), ("b.parquet", 1)):
        source = table(10)
        bmi = [None if i == bad else v for i, v in enumerate(source.column("bmi").to_pylist())]
        pq.write_table(
            source.set_column(source.column_names.index("bmi"), "bmi", pa.array(bmi)), folder / name
        )
    summary = score_files(input_files(folder), tmp_path / "out.parquet", model, batch_rows=3)
    assert (summary.rows_read, summary.rows_rejected) == (20, 2)
    assert [(r["file"], r["row"]) for r in rejects_of(tmp_path / "out.rejects.csv")] == [
        ("a.parquet", "8"),  # the third batch's second row: 1-based, counted over the file
        ("b.parquet", "2"),  # counted per file
    ]
    ids = pq.read_table(tmp_path / "out.parquet").column("id").to_pylist()
    assert ids == [i for i in range(10) if i != 7] + [i for i in range(10) if i != 1]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LoadedModel]:
    folder = build_classifier_dir(tmp_path_factory.mktemp("clf") / "model")
    return folder, load_model(folder, version="2")


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_a_classifier_writes_each_class_probability_beside_the_class_as_the_service_answers(
    classifier: tuple[Path, LoadedModel], make_client: Any, tmp_path: Path, suffix: str
) -> None:
    folder, model = classifier
    rows = np.random.default_rng(3).normal(size=(40, 4))
    pq.write_table(pa.table({f: rows[:, j] for j, f in enumerate("abcd")}), tmp_path / "in.parquet")
    summary = score_files([tmp_path / "in.parquet"], tmp_path / f"out.{suffix}", model, batch_rows=16)
    assert summary.rows_scored == 40
    read = pq.read_table if suffix == "parquet" else pa_csv.read_csv
    out = read(tmp_path / f"out.{suffix}")
    assert out.column_names == ["a", "b", "c", "d", "prediction", "probability_0", "probability_1"]
    with make_client(model_dir=folder) as client:
        online = client.post("/score", json={"data": rows.tolist()}).json()
    assert out.column("prediction").to_pylist() == online["result"]
    got = np.column_stack([out.column("probability_0"), out.column("probability_1")])
    np.testing.assert_allclose(got, online["probabilities"], rtol=0, atol=1e-15 if suffix == "csv" else 0)


def test_an_input_with_a_probability_column_is_refused_before_anything_is_written(
    classifier: tuple[Path, LoadedModel], tmp_path: Path
) -> None:
    write_csv(tmp_path / "in.csv", ["a", "b", "c", "d", "probability_1"], [[0, 0, 0, 0, 0.5]])
    with pytest.raises(BatchInputError, match="already has a column 'probability_1'"):
        score_files([tmp_path / "in.csv"], tmp_path / "out.csv", classifier[1])
    assert not (tmp_path / "out.csv").exists()


def test_a_regressor_adds_the_prediction_only(model: LoadedModel, tmp_path: Path) -> None:
    pq.write_table(table(5), tmp_path / "in.parquet")
    score_files([tmp_path / "in.parquet"], tmp_path / "out.parquet", model)
    assert pq.read_table(tmp_path / "out.parquet").column_names == ["id", *FEATURES, "prediction"]
