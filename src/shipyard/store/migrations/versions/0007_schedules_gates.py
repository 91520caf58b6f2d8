"""Scheduler jobs and triggers (one row per job and slot), and gate results.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gate_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("champion_version", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=250), nullable=True),
        sa.Column("checks_json", sa.Text(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("user", sa.String(length=250), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gate_results")),
    )
    op.create_index(
        "ix_gate_results_model_version", "gate_results", ["model", "version"], unique=False
    )
    op.create_table(
        "scheduler_jobs",
        sa.Column("job", sa.String(length=250), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_scheduler_jobs")),
    )
    op.create_table(
        "schedule_triggers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=250), nullable=False),
        sa.Column("slot", sa.String(length=250), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_triggers")),
        sa.UniqueConstraint("job", "slot", name=op.f("uq_schedule_triggers_job_slot")),
    )
    op.create_index(
        "ix_schedule_triggers_job_created_at",
        "schedule_triggers",
        ["job", "created_at"],
        unique=False,
    )
    op.create_index("ix_schedule_triggers_state", "schedule_triggers", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_schedule_triggers_state", table_name="schedule_triggers")
    op.drop_index("ix_schedule_triggers_job_created_at", table_name="schedule_triggers")
    op.drop_table("schedule_triggers")
    op.drop_table("scheduler_jobs")
    op.drop_index("ix_gate_results_model_version", table_name="gate_results")
    op.drop_table("gate_results")
