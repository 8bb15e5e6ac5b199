"""The declarative data check: schema rules in, one message per broken rule out."""

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from model.schema import ColumnRule, Schema


class DataCheckError(ValueError):
    """The data broke one or more rules; ``problems`` has one line per rule."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _plain(value: float) -> float | int:
    """``120`` rather than ``120.0`` in a rule's name."""
    return int(value) if float(value).is_integer() else value


def _column(rule: ColumnRule) -> pa.Column:
    checks = [pa.Check.in_range(_plain(rule.low), _plain(rule.high))]
    if rule.allowed is not None:
        checks.append(pa.Check.isin([_plain(v) for v in rule.allowed]))
    if rule.integer:
        checks.append(pa.Check(lambda values: values % 1 == 0, name="whole numbers"))
    return pa.Column(
        float,
        checks=checks,
        nullable=rule.nullable,
        coerce=True,
        description=rule.description,
    )


def build_schema(schema: Schema, min_rows: int | None = None) -> pa.DataFrameSchema:
    """The pandera schema: every column numeric, in range or allowed, no missing values unless
    nullable; enough rows (``min_rows``, default the schema's)."""
    min_rows = schema.min_rows if min_rows is None else min_rows
    columns = {rule.name: _column(rule) for rule in (*schema.feature_rules, schema.target_rule)}
    return pa.DataFrameSchema(
        columns,
        checks=pa.Check(
            lambda frame: len(frame) >= min_rows,
            name=f"at least {min_rows} rows",
            element_wise=False,
        ),
        strict=True,
        ordered=False,
    )


def _rule_name(check: object) -> str:
    text = str(check)
    if text == "not_nullable":
        return "no missing values"
    if text.startswith(("dtype(", "coerce_dtype(")):
        return "must be numeric"
    return text


def _describe(failures: pd.DataFrame) -> list[str]:
    """One line per (column, rule) from pandera's failure-case table."""
    failures = failures.assign(rule=failures["check"].map(_rule_name))
    not_numeric = set(failures.loc[failures["rule"] == "must be numeric", "column"])
    problems: list[str] = []
    for (column, rule), group in failures.groupby(["column", "rule"], dropna=False, sort=False):
        failing = group.loc[group["index"].notna(), ["index", "failure_case"]]
        failing = failing.drop_duplicates(subset="index")
        if column in not_numeric and rule != "must be numeric":
            continue  # a range check on text is noise beside "must be numeric"
        where = "the table" if pd.isna(column) else f"column '{column}'"
        rows = [int(index) for index in failing["index"]]
        cases = failing["failure_case"].tolist()
        example = f"; e.g. rows {rows[:3]}: {cases[:3]}" if rows else ""
        count = len(rows) or 1
        problems.append(f"{where} breaks rule '{rule}' ({count} failing){example}")
    return problems


def check_frame(frame: pd.DataFrame, schema: Schema, min_rows: int | None = None) -> pd.DataFrame:
    """Validate ``frame``; return it with float columns, or raise DataCheckError naming each rule."""
    try:
        validated: pd.DataFrame = build_schema(schema, min_rows).validate(frame, lazy=True)
    except SchemaErrors as errors:
        raise DataCheckError(_describe(errors.failure_cases)) from None
    return validated
