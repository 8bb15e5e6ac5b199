"""Pipeline step `validate-data`: the data check, with a report of what was checked."""

import argparse
import json
import sys
from pathlib import Path

from model.checks import DataCheckError, check_frame
from model.data import DataError, file_sha256, load_csv
from model.outputs import DATA_CHECK_FILE
from model.params import load_params
from model.schema import schema_of
from model.step import run_step


def main(argv: list[str] | None = None) -> int:
    """Check ``--data`` against the use case's schema; exit 1 with one line per broken rule."""
    parser = argparse.ArgumentParser(prog="python -m model.validate_data", description=main.__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--params", type=Path, help="the use-case file (default: config/usecase.yaml)")
    parser.add_argument("--min-rows", type=int, help="default: the use case's min_rows")
    parser.add_argument("--report-output", type=Path, required=True)
    args = parser.parse_args(argv)

    schema = schema_of(load_params(args.params))
    try:
        frame = check_frame(load_csv(args.data, schema.columns), schema, min_rows=args.min_rows)
    except DataError as error:
        print(f"data check failed: {error}", file=sys.stderr)
        return 1
    except DataCheckError as error:
        for problem in error.problems:
            print(f"data check failed: {args.data}: {problem}", file=sys.stderr)
        return 1
    report = {
        "rows": len(frame),
        "columns": list(frame.columns),
        "data_hash": file_sha256(args.data),
    }
    args.report_output.mkdir(parents=True, exist_ok=True)
    (args.report_output / DATA_CHECK_FILE).write_text(json.dumps(report, indent=2) + "\n")
    print(f"data check passed: {len(frame)} rows, {report['data_hash']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_step(main))
