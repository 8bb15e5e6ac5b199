"""The diabetes data schema: feature names, target and plausible ranges (declarative)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnRule:
    """One column of the training data and the closed range its values must lie in."""

    name: str
    low: float
    high: float
    description: str


# Plausible clinical ranges for scikit-learn's diabetes data in its raw (unscaled) units.
FEATURE_RULES: tuple[ColumnRule, ...] = (
    ColumnRule("age", 0, 120, "age in years"),
    ColumnRule("sex", 1, 2, "sex (1 or 2)"),
    ColumnRule("bmi", 10, 80, "body mass index"),
    ColumnRule("bp", 40, 250, "average blood pressure"),
    ColumnRule("s1", 50, 500, "tc, total serum cholesterol"),
    ColumnRule("s2", 10, 400, "ldl, low-density lipoproteins"),
    ColumnRule("s3", 5, 150, "hdl, high-density lipoproteins"),
    ColumnRule("s4", 0.5, 15, "tch, total cholesterol / HDL"),
    ColumnRule("s5", 2, 7, "ltg, log of serum triglycerides level"),
    ColumnRule("s6", 30, 400, "glu, blood sugar level"),
)
TARGET_RULE = ColumnRule("target", 0, 500, "disease progression one year after baseline")

FEATURES: tuple[str, ...] = tuple(rule.name for rule in FEATURE_RULES)
TARGET: str = TARGET_RULE.name
COLUMNS: tuple[str, ...] = (*FEATURES, TARGET)
MIN_ROWS = 100
