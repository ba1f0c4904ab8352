"""The release policy: model, loading, validation errors with locations."""

from gonogo.policy.load import LoadedPolicy, PolicyInvalid, Problem, find_policy, load_policy
from gonogo.policy.model import Criterion, Gate, Policy, Threshold, Waiver

__all__ = [
    "Criterion",
    "Gate",
    "LoadedPolicy",
    "Policy",
    "PolicyInvalid",
    "Problem",
    "Threshold",
    "Waiver",
    "find_policy",
    "load_policy",
]
