"""The one base of every model that reads settings a user wrote (policy, plan, scenario)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Frozen, unknown keys refused, and no ``nan`` or ``inf`` in any number.

    A typo'd key is an error rather than a silently ignored setting; a model that is
    checked once stays as checked. ``nan`` and ``inf`` are refused because ``nan`` compares
    false with every limit (so ``ge``/``le`` bounds would let it through), neither has a
    JSON form, and the policy's digest is taken over its JSON.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
