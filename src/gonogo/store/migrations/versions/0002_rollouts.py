"""Rollouts: the controller's persisted state, its decisions and operator requests.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the rollout tables."""
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("baseline_version", sa.String(100), nullable=False),
        sa.Column("release", sa.String(100), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("target_weight", sa.Float, nullable=True),
        sa.Column("inconclusive", sa.Integer, nullable=False),
        sa.Column("plan_digest", sa.String(64), nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("components", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("controller", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", sa.String(40), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_rollouts_state", "rollouts", ["state", "id"])
    op.create_table(
        "rollout_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rollout_id", sa.Integer, sa.ForeignKey("rollouts.id"), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("basis", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_rollout_decisions_rollout", "rollout_decisions", ["rollout_id", "id"])
    op.create_table(
        "rollout_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rollout_id", sa.Integer, sa.ForeignKey("rollouts.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("argument", sa.String(200), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("handled_at", sa.String(40), nullable=True),
    )


def downgrade() -> None:
    """Drop the rollout tables."""
    op.drop_table("rollout_requests")
    op.drop_index("ix_rollout_decisions_rollout", table_name="rollout_decisions")
    op.drop_table("rollout_decisions")
    op.drop_index("ix_rollouts_state", table_name="rollouts")
    op.drop_table("rollouts")
