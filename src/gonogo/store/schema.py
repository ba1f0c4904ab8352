"""Tables of the state store (SQLAlchemy Core). The Alembic migrations create the same."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(100), nullable=False, unique=True),
    Column("state", String(20), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("notes", Text, nullable=True),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=True),
    Column("gate_id", String(64), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("policy_digest", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Index("ix_evaluations_release_gate", "release_id", "gate_id", "id"),
)

criterion_results = Table(
    "criterion_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("evaluation_id", Integer, ForeignKey("evaluations.id"), nullable=False),
    Column("criterion_ref", String(130), nullable=False),
    Column("status", String(20), nullable=False),
    Column("measured", Float, nullable=True),
    Index("ix_criterion_results_ref", "criterion_ref", "status"),
)

signoffs = Table(
    "signoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("role", String(64), nullable=False),
    Column("identity", String(200), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("note", Text, nullable=True),
    Column("signature", Text, nullable=True),
    Column("created_at", String(40), nullable=False),
    Index("ix_signoffs_subject", "release_id", "kind", "subject", "role"),
)

result_cache = Table(
    "result_cache",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("check_type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

ingested = Table(
    "ingested",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=True),
    Column("criterion_ref", String(130), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Index("ix_ingested_ref", "criterion_ref", "id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("ts", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

rollouts = Table(
    "rollouts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(100), nullable=False),
    Column("baseline_version", String(100), nullable=False),
    Column("release", String(100), nullable=True),
    Column("state", String(20), nullable=False),
    Column("step", Integer, nullable=False),
    Column("weight", Float, nullable=False),
    Column("target_weight", Float, nullable=True),
    Column("inconclusive", Integer, nullable=False),
    Column("plan_digest", String(64), nullable=False),
    Column("plan", Text, nullable=False),
    Column("components", Text, nullable=False),
    Column("reason", Text, nullable=True),
    Column("controller", String(200), nullable=True),
    Column("heartbeat_at", String(40), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("ix_rollouts_state", "state", "id"),
)

rollout_decisions = Table(
    "rollout_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rollout_id", Integer, ForeignKey("rollouts.id"), nullable=False),
    Column("at", String(40), nullable=False),
    Column("step", Integer, nullable=False),
    Column("weight", Float, nullable=False),
    Column("action", String(20), nullable=False),
    Column("basis", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Index("ix_rollout_decisions_rollout", "rollout_id", "id"),
)

rollout_requests = Table(
    "rollout_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rollout_id", Integer, ForeignKey("rollouts.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("argument", String(200), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("handled_at", String(40), nullable=True),
)
