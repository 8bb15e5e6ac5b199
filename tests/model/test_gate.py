"""The gate: register only when better by the margin and within the latency budget."""

import pytest

from model.gate import decide, relative_improvement
from model.params import GateParams

GATE = GateParams(primary_metric="rmse", min_improvement=0.01, latency_budget_ms=5.0)


def metrics(rmse: float, p99: float = 1.0, r2: float = 0.5) -> dict[str, float]:
    return {"rmse": rmse, "mae": rmse * 0.8, "r2": r2, "latency_p99_ms": p99}


def test_no_champion_registers():
    decision = decide(metrics(50), None, GATE)
    assert decision.register and decision.reason.startswith("no champion yet")


def test_better_by_the_margin_registers():
    decision = decide(metrics(49.0), metrics(50.0), GATE)
    assert decision.register
    assert decision.improvement == pytest.approx(0.02)
    assert decision.reason.startswith("better: rmse 49.0000 vs champion 50.0000 (+2.00%")


@pytest.mark.parametrize("rmse", [50.0, 49.8, 51.0])
def test_equal_slightly_better_or_worse_does_not_register(rmse):
    decision = decide(metrics(rmse), metrics(50.0), GATE)
    assert not decision.register
    assert decision.reason.startswith("not better")


def test_over_the_latency_budget_never_registers_even_without_champion():
    decision = decide(metrics(10.0, p99=6.0), None, GATE)
    assert not decision.register
    assert "over the budget of 5.0 ms" in decision.reason


def test_higher_is_better_metrics():
    gate = GateParams(primary_metric="r2", min_improvement=0.01)
    assert decide(metrics(50, r2=0.6), metrics(50, r2=0.5), gate).register
    assert not decide(metrics(50, r2=0.5), metrics(50, r2=0.6), gate).register
    assert relative_improvement("r2", 0.6, 0.5) == pytest.approx(0.2)
    assert relative_improvement("rmse", 40, 50) == pytest.approx(0.2)


def test_zero_margin_still_needs_a_real_improvement():
    gate = GateParams(min_improvement=0.0)
    assert not decide(metrics(50.0), metrics(50.0), gate).register


def test_a_first_model_worse_than_the_floor_is_not_registered():
    r2_floor = GateParams(primary_metric="r2", floor=0.3)
    decision = decide(metrics(50, r2=0.05), None, r2_floor)
    assert not decision.register
    assert decision.reason == "below the floor: r2 0.0500 is worse than gate.floor 0.3 (higher is better)"
    assert decide(metrics(50, r2=0.31), None, r2_floor).register
    rmse_floor = GateParams(primary_metric="rmse", floor=60)
    assert not decide(metrics(61), None, rmse_floor).register
    assert decide(metrics(59), None, rmse_floor).register


def test_classification_metrics_have_their_direction():
    gate = GateParams(primary_metric="log_loss", min_improvement=0.01)
    better, worse = {"log_loss": 0.3, "latency_p99_ms": 1.0}, {"log_loss": 0.4, "latency_p99_ms": 1.0}
    assert decide(better, worse, gate).register
    assert not decide(worse, better, gate).register
    gate = GateParams(primary_metric="roc_auc", min_improvement=0.01)
    assert decide(
        {"roc_auc": 0.9, "latency_p99_ms": 1.0}, {"roc_auc": 0.8, "latency_p99_ms": 1.0}, gate
    ).register
