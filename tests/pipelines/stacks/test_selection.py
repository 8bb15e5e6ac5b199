"""Teardown selection: a protected stack is never selected, whatever its name and tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from pipelines.stacks.selection import (
    PROTECTED_STACKS,
    TAG_EXPIRES_AT,
    TAG_PROTECTED,
    TAG_SHORT_LIVED,
    Mode,
    StackInfo,
    format_expiry,
    is_short_lived_name,
    parse_expiry,
    plan_teardown,
    protection_reason,
    select_candidates,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PAST = format_expiry(NOW - timedelta(hours=1))
FUTURE = format_expiry(NOW + timedelta(hours=1))


def short_lived(name: str, expires: str = PAST, **extra: str) -> StackInfo:
    return StackInfo(name, {TAG_SHORT_LIVED: "true", TAG_EXPIRES_AT: expires, **extra})


# --- strategies -------------------------------------------------------------------------

valid_ids = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,30}\Z")
dev_names = valid_ids.map(lambda s: f"dev-{s}")
tricky_names = st.one_of(
    dev_names,
    dev_names,
    st.sampled_from(sorted(PROTECTED_STACKS)),
    st.sampled_from(["dev-", "dev", "Dev-pr-1", "dev-pr-1\n", "dev_pr_1", "qa-pr-1", "prod-1", "dev--"]),
    st.text(max_size=40),
)
qualifiers = st.sampled_from(["", "org/", "org/azure-mlops/"])
names = st.builds(lambda q, n: q + n, qualifiers, tricky_names)
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(format_expiry)
tag_values = st.one_of(
    st.sampled_from(["true", "True", "TRUE", "false", "", "yes", "1"]), timestamps, st.text(max_size=12)
)
tags = st.one_of(
    st.dictionaries(
        st.one_of(st.sampled_from([TAG_SHORT_LIVED, TAG_EXPIRES_AT, TAG_PROTECTED]), st.text(max_size=20)),
        tag_values,
        max_size=5,
    ),
    # well-formed short-lived tags, sometimes with a protected tag on top
    st.fixed_dictionaries(
        {TAG_SHORT_LIVED: st.sampled_from(["true", "True"]), TAG_EXPIRES_AT: timestamps},
        optional={TAG_PROTECTED: tag_values},
    ),
)
stacks = st.builds(StackInfo, names, tags)
modes = st.sampled_from(list(Mode))
nows = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def is_protected(stack: StackInfo) -> bool:
    """The contract, restated independently of the implementation."""
    short = stack.name.rsplit("/", 1)[-1]
    protected_tag = stack.tags.get(TAG_PROTECTED)
    return short in {"dev", "qa", "prod"} or (
        protected_tag is not None and protected_tag.strip().lower() != "false"
    )


# --- properties -------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.lists(stacks, max_size=8, unique_by=lambda s: s.name), nows, modes, st.data())
def test_a_protected_stack_is_never_selected(
    listed: list[StackInfo], now: datetime, mode: Mode, data: st.DataObject
) -> None:
    target = None
    if mode is Mode.NAMED:
        target = data.draw(st.sampled_from([s.name for s in listed if s.name] or ["dev"]))
    selection = plan_teardown(listed, now=now, mode=mode, stack_name=target)
    by_name = {s.name: s for s in listed}
    for candidate in selection.candidates:
        assert not is_protected(by_name[candidate.name])
    event(f"candidates: {min(len(selection.candidates), 2)}")


@settings(max_examples=300)
@given(st.lists(stacks, max_size=8, unique_by=lambda s: s.name), nows)
def test_every_expired_candidate_matches_pattern_and_both_tags(
    listed: list[StackInfo], now: datetime
) -> None:
    by_name = {s.name: s for s in listed}
    for candidate in select_candidates(listed, now=now, mode=Mode.EXPIRED):
        stack = by_name[candidate.name]
        short = stack.name.rsplit("/", 1)[-1]
        assert short.startswith("dev-") and "\n" not in short and len(short) <= 35
        assert stack.tags[TAG_SHORT_LIVED].lower() == "true"
        expiry = parse_expiry(stack.tags[TAG_EXPIRES_AT])
        assert expiry is not None and expiry < now
        assert candidate.expires_at == expiry and candidate.expired


@settings(max_examples=200)
@given(st.lists(stacks, max_size=8, unique_by=lambda s: s.name), nows, modes)
def test_every_stack_is_either_selected_or_rejected_with_a_reason(
    listed: list[StackInfo], now: datetime, mode: Mode
) -> None:
    if mode is Mode.NAMED:
        return
    selection = plan_teardown(listed, now=now, mode=mode)
    assert len(selection.candidates) + len(selection.rejected) == len(listed)
    assert all(r.reason for r in selection.rejected)


@given(st.sampled_from(sorted(PROTECTED_STACKS)), qualifiers, nows, modes)
def test_long_lived_environments_are_rejected_even_when_tagged_short_lived(
    name: str, qualifier: str, now: datetime, mode: Mode
) -> None:
    stack = short_lived(qualifier + name, expires=format_expiry(now - timedelta(days=1)))
    selection = plan_teardown([stack], now=now, mode=mode, stack_name=stack.name)
    assert selection.candidates == []
    assert selection.rejected[0].reason.startswith("protected")


@given(valid_ids)
def test_the_short_lived_pattern_accepts_dev_ids(ident: str) -> None:
    assert is_short_lived_name(f"dev-{ident}")


# --- examples ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "reason"),
    [
        (StackInfo("qa", {TAG_SHORT_LIVED: "true", TAG_EXPIRES_AT: PAST}), "protected: 'qa'"),
        (short_lived("dev-pr-1", **{TAG_PROTECTED: "true"}), "protected: tagged"),
        (short_lived("dev-pr-1", **{TAG_PROTECTED: "yes"}), "protected: tagged"),
        (short_lived("feature-1"), "name does not match"),
        (short_lived("dev-pr-1\n"), "name does not match"),
        (short_lived("dev-" + "a" * 32), "name does not match"),
        (StackInfo("dev-pr-1", {TAG_EXPIRES_AT: PAST}), "not tagged mlops:short-lived=true"),
        (StackInfo("dev-pr-1", {TAG_SHORT_LIVED: "true"}), "no valid mlops:expires-at"),
        (short_lived("dev-pr-1", expires="tomorrow"), "no valid mlops:expires-at"),
        (short_lived("dev-pr-1", expires="2026-11-25T07:00:00"), "no valid"),  # naive
        (short_lived("dev-pr-1", expires="2026-11-25T07:00:00+01:00"), "no valid"),  # not UTC
        (short_lived("dev-pr-1", expires=FUTURE), "not expired"),
    ],
)
def test_rejection_reasons(stack: StackInfo, reason: str) -> None:
    selection = plan_teardown([stack], now=NOW, mode=Mode.EXPIRED)
    assert selection.candidates == []
    assert reason in selection.rejected[0].reason


def test_expired_mode_selects_only_expired_short_lived_stacks() -> None:
    listed = [
        StackInfo("dev"),
        StackInfo("qa"),
        StackInfo("prod"),
        short_lived("dev-pr-1"),
        short_lived("dev-pr-2", expires=FUTURE),
        short_lived("org/azure-mlops/dev-pr-3", expires="2026-11-25T07:59:59Z"),
        short_lived("dev-pr-4", expires=format_expiry(NOW)),  # expiry == now: not yet
    ]
    assert [c.name for c in select_candidates(listed, now=NOW, mode=Mode.EXPIRED)] == [
        "dev-pr-1",
        "org/azure-mlops/dev-pr-3",
    ]


def test_named_mode_takes_an_unexpired_short_lived_stack_but_not_a_protected_one() -> None:
    listed = [short_lived("dev-pr-2", expires=FUTURE), StackInfo("dev")]
    selected = select_candidates(listed, now=NOW, mode=Mode.NAMED, stack_name="dev-pr-2")
    assert [(c.name, c.expired) for c in selected] == [("dev-pr-2", False)]
    assert select_candidates(listed, now=NOW, mode=Mode.NAMED, stack_name="dev") == []


def test_named_mode_reports_a_missing_stack() -> None:
    selection = plan_teardown([], now=NOW, mode=Mode.NAMED, stack_name="dev-pr-9")
    assert selection.candidates == []
    assert selection.rejected[0].reason == "no such stack"


def test_a_protected_tag_set_to_false_does_not_protect() -> None:
    assert protection_reason(short_lived("dev-pr-1", **{TAG_PROTECTED: "false"})) is None


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_teardown([], now=datetime(2026, 1, 1), mode=Mode.EXPIRED)


def test_expiry_round_trip() -> None:
    assert parse_expiry("2026-11-25T08:00:00Z") == NOW
    assert format_expiry(NOW) == "2026-11-25T08:00:00Z"
    assert parse_expiry(None) is None


@settings(max_examples=300)
@given(
    qualifiers,
    st.one_of(dev_names, st.sampled_from(sorted(PROTECTED_STACKS))),
    st.one_of(st.none(), tag_values),
    nows,
    st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3650)),
)
def test_an_expired_well_tagged_stack_is_selected_exactly_when_unprotected(
    qualifier: str, name: str, protected_tag: str | None, now: datetime, age: timedelta
) -> None:
    extra = {} if protected_tag is None else {TAG_PROTECTED: protected_tag}
    stack = short_lived(qualifier + name, expires=format_expiry(now - age), **extra)
    selected = select_candidates([stack], now=now.replace(microsecond=0), mode=Mode.EXPIRED)
    assert bool(selected) is not is_protected(stack)
