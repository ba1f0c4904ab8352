"""``gate`` and ``signoff`` judge other gates' state (their engine runs are tested elsewhere)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonogo.checks.interface import NotReported, Observation
from gonogo.gates.results import SignoffState, Status, Verdict
from tests.checks.helpers import FakeGates, context, evaluate, inputs, judge


def test_gate_that_is_go_passes() -> None:
    judgement = judge("gate", {"gate": "quality"}, Observation(measured="go"))
    assert (judgement.status, judgement.reason, judgement.expected) == (
        Status.PASS,
        "gate quality is go",
        "go",
    )


def test_gate_that_is_no_go_fails_naming_it() -> None:
    judgement = judge("gate", {"gate": "quality"}, Observation(measured="no-go"))
    assert (judgement.status, judgement.reason) == (Status.FAIL, "gate quality is no-go")


def test_gate_reads_the_other_gates_verdict(tmp_path: Path) -> None:
    ctx = context(tmp_path, gates=FakeGates(verdicts={"quality": Verdict.NO_GO}))
    observation, judgement = evaluate("gate", {"gate": "quality"}, ctx)
    assert observation.measured == "no-go"
    assert judgement.status is Status.FAIL


@pytest.mark.parametrize(("check", "params"), [
    ("gate", {"gate": "security"}),
    ("signoff", {"gate": "security", "roles": ["security"]}),
])  # fmt: skip
def test_gate_not_evaluated_yet_is_not_reported(
    tmp_path: Path, check: str, params: dict[str, object]
) -> None:
    with pytest.raises(NotReported) as caught:
        evaluate(check, params, context(tmp_path))
    assert "gonogo check --gate security" in str(caught.value)


@pytest.mark.parametrize("check", ["gate", "signoff"])
def test_store_state_is_never_cached(tmp_path: Path, check: str) -> None:
    params = {"gate": "security", "roles": ["security"]} if check == "signoff" else {"gate": "x"}
    assert not inputs(check, params, context(tmp_path)).cacheable


def test_every_role_valid_passes() -> None:
    params = {"gate": "security", "roles": ["security", "engineering"]}
    observation = Observation(
        measured=2, details={"roles": {"security": "valid", "engineering": "valid"}}
    )
    judgement = judge("signoff", params, observation)
    assert (judgement.status, judgement.reason) == (
        Status.PASS,
        "signed by security, engineering",
    )
    assert judgement.expected == "valid sign-off by security, engineering on security"


def test_stale_or_missing_sign_off_fails_naming_role_and_state() -> None:
    params = {"gate": "security", "roles": ["security", "engineering", "qa"]}
    observation = Observation(
        measured=1,
        details={"roles": {"security": "stale", "engineering": "valid", "qa": "missing"}},
    )
    judgement = judge("signoff", params, observation)
    assert judgement.status is Status.FAIL
    assert judgement.reason == "sign-off security stale, qa missing"


def test_signoff_reads_each_listed_roles_state(tmp_path: Path) -> None:
    gates = FakeGates(
        verdicts={"security": Verdict.NO_GO},
        signoffs={"security": {"security": SignoffState.VALID, "ops": SignoffState.INVALID}},
    )
    params = {"gate": "security", "roles": ["security", "legal"]}
    observation, judgement = evaluate("signoff", params, context(tmp_path, gates=gates))
    assert observation.measured == 1
    assert observation.details["roles"] == {"security": "valid", "legal": "missing"}
    assert (judgement.status, judgement.reason) == (Status.FAIL, "sign-off legal missing")
