"""The declarative data check: each rule fails with a message naming the column and the rule."""

from dataclasses import replace

import numpy as np
import pytest

from model.checks import DataCheckError, check_frame
from model.params import DEFAULT_PARAMS, load_params
from model.schema import schema_of

SCHEMA = schema_of(load_params(DEFAULT_PARAMS))


def test_valid_data_passes_and_is_coerced_to_float(bundled_frame, tiny):
    assert check_frame(bundled_frame, SCHEMA).dtypes.eq(float).all()
    assert len(check_frame(tiny, SCHEMA, min_rows=12)) == 12


def problems(frame, min_rows: int = 12, schema=SCHEMA) -> list[str]:
    with pytest.raises(DataCheckError) as caught:
        check_frame(frame, schema, min_rows=min_rows)
    return caught.value.problems


def test_missing_value_names_column_rule_and_row(tiny):
    tiny.loc[3, "bmi"] = np.nan
    assert problems(tiny) == [
        "column 'bmi' breaks rule 'no missing values' (1 failing); e.g. rows [3]: [nan]"
    ]


def test_out_of_range_value_names_column_and_range(tiny):
    tiny.loc[5, "age"] = 150
    tiny.loc[6, "target"] = -1
    found = problems(tiny)
    assert "column 'age' breaks rule 'in_range(0, 120)' (1 failing); e.g. rows [5]: [150.0]" in found
    assert any(p.startswith("column 'target' breaks rule 'in_range(0, 500)'") for p in found)
    assert len(found) == 2


def test_text_in_a_numeric_column_is_one_problem_not_two(tiny):
    tiny["s1"] = tiny["s1"].astype(object)
    tiny.loc[[7, 8], "s1"] = "abc"
    assert problems(tiny) == [
        "column 's1' breaks rule 'must be numeric' (2 failing); e.g. rows [7, 8]: ['abc', 'abc']"
    ]


def test_too_few_rows_is_a_table_rule(tiny):
    assert problems(tiny, min_rows=100) == ["the table breaks rule 'at least 100 rows' (1 failing)"]


def test_infinity_is_out_of_range(tiny):
    tiny.loc[0, "bp"] = np.inf
    assert any("column 'bp' breaks rule 'in_range(40, 250)'" in p for p in problems(tiny))


def test_allowed_values_whole_numbers_and_nullable_columns(tiny):
    rules = {rule.name: rule for rule in SCHEMA.feature_rules}
    rules["sex"] = replace(rules["sex"], allowed=(1.0, 2.0), integer=True)
    rules["age"] = replace(rules["age"], nullable=True)
    schema = replace(SCHEMA, feature_rules=tuple(rules.values()))
    tiny["sex"] = 1.0
    tiny.loc[2, "age"] = np.nan
    assert len(check_frame(tiny, schema, min_rows=12)) == 12
    tiny.loc[4, "sex"] = 1.5
    found = problems(tiny, schema=schema)
    assert any(p.startswith("column 'sex' breaks rule 'isin(") for p in found)
    assert any(p.startswith("column 'sex' breaks rule 'whole numbers'") for p in found)
    assert len(found) == 2
