"""The promotion gate: does the challenger replace the champion? (pure)"""

from dataclasses import asdict, dataclass
from typing import Any

from model.params import METRICS, GateParams

HIGHER_IS_BETTER = {name: higher for name, (_, higher) in METRICS.items()}


@dataclass(frozen=True)
class Decision:
    """The gate's verdict and the reason, in words a person reads in the run summary."""

    register: bool
    reason: str
    improvement: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def relative_improvement(metric: str, challenger: float, champion: float) -> float:
    """How much better the challenger is, relative to the champion (positive is better)."""
    gain = challenger - champion if HIGHER_IS_BETTER[metric] else champion - challenger
    return gain / abs(champion) if champion else float("inf") if gain > 0 else 0.0


def decide(challenger: dict[str, float], champion: dict[str, float] | None, gate: GateParams) -> Decision:
    """Register only when within the latency budget, no worse than the floor (if set) and better
    than the champion by the margin."""
    p99 = challenger["latency_p99_ms"]
    if p99 > gate.latency_budget_ms:
        return Decision(
            False,
            f"too slow: p99 latency {p99:.3f} ms is over the budget of {gate.latency_budget_ms} ms",
            None,
        )
    metric = gate.primary_metric
    if gate.floor is not None:
        value = challenger[metric]
        below = value < gate.floor if HIGHER_IS_BETTER[metric] else value > gate.floor
        if below:
            better = "higher" if HIGHER_IS_BETTER[metric] else "lower"
            return Decision(
                False,
                f"below the floor: {metric} {value:.4f} is worse than gate.floor {gate.floor:g} "
                f"({better} is better)",
                None,
            )
    if champion is None:
        return Decision(True, f"no champion yet: first model ({metric} {challenger[metric]:.4f})", None)
    gain = relative_improvement(metric, challenger[metric], champion[metric])
    words = (
        f"{metric} {challenger[metric]:.4f} vs champion {champion[metric]:.4f} "
        f"({gain:+.2%}, margin {gate.min_improvement:.2%})"
    )
    if gain >= gate.min_improvement and gain > 0:
        return Decision(True, f"better: {words}", gain)
    return Decision(False, f"not better: {words}", gain)
