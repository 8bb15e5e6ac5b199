"""Drift statistics between a reference sample and a production sample (pure: NumPy and SciPy).

A numeric feature is binned at the reference's quantiles (``bins`` bins, the outer ones open),
a categorical one (few distinct reference values) by value; both samples become shares of
those bins and are compared with the population stability index or the Jensen-Shannon distance
(SciPy, base 2, so it lies in [0, 1]). The names are Azure ML's model monitor metric names
(azure-ai-ml ``NumericalDriftMetrics`` / ``CategoricalDriftMetrics``), so a threshold in
``config/monitor.yaml`` means the same thing locally and in the Azure ML monitor.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.spatial.distance import jensenshannon

Statistic = Literal["population_stability_index", "jensen_shannon_distance"]
FloatArray = npt.NDArray[np.float64]
# A bin one sample never reaches would make PSI infinite: shares are floored at this.
_EPSILON = 1e-4


@dataclass(frozen=True)
class Bins:
    """How a feature is binned: quantile edges (numeric) or the reference's values (categorical)."""

    kind: Literal["numeric", "categorical"]
    edges: tuple[float, ...] = ()
    values: tuple[float, ...] = ()


def make_bins(reference: FloatArray, *, bins: int, categorical_max_values: int) -> Bins:
    """The bins of a feature, from its reference values only."""
    finite = reference[np.isfinite(reference)]
    values = np.unique(finite)
    if len(values) <= categorical_max_values:
        return Bins("categorical", values=tuple(float(v) for v in values))
    inner = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    return Bins("numeric", edges=tuple(float(e) for e in inner))


def shares(sample: FloatArray, bins: Bins) -> FloatArray:
    """The share of ``sample``'s finite values in each bin (categorical: one more bin for unseen values)."""
    finite = sample[np.isfinite(sample)]
    if bins.kind == "numeric":
        counts = np.bincount(np.searchsorted(bins.edges, finite, side="right"), minlength=len(bins.edges) + 1)
    else:
        known = np.asarray(bins.values)
        index = np.searchsorted(known, finite)
        index = np.clip(index, 0, len(known) - 1)
        seen = known[index] == finite
        counts = np.bincount(np.where(seen, index, len(known)), minlength=len(known) + 1)
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))


def distance(reference: FloatArray, production: FloatArray, statistic: Statistic) -> float:
    """PSI or Jensen-Shannon distance between two vectors of bin shares."""
    p = np.maximum(reference, _EPSILON)
    q = np.maximum(production, _EPSILON)
    p, q = p / p.sum(), q / q.sum()
    if statistic == "population_stability_index":
        return float(np.sum((q - p) * np.log(q / p)))
    return float(jensenshannon(p, q, base=2))


def drift(
    reference: FloatArray,
    production: FloatArray,
    *,
    statistic: Statistic,
    bins: int,
    categorical_max_values: int,
) -> tuple[float, Bins]:
    """The drift statistic of one feature (or of the predictions) and the bins it used."""
    edges = make_bins(reference, bins=bins, categorical_max_values=categorical_max_values)
    return distance(shares(reference, edges), shares(production, edges), statistic), edges


def missing_rate(values: FloatArray) -> float:
    """The share of values that are missing (NaN)."""
    return float(np.isnan(values).mean()) if len(values) else 0.0


def out_of_range_rate(values: FloatArray, low: float, high: float) -> float:
    """The share of present values outside ``[low, high]``."""
    present = values[~np.isnan(values)]
    return float(((present < low) | (present > high)).mean()) if len(present) else 0.0
