"""Pipeline runs and their steps.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("pipeline", sa.String(length=250), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=250), nullable=False),
        sa.Column("executor", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("resumed_from", sa.String(length=32), nullable=True),
        sa.Column("definition_hash", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=250), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("error_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
    )
    op.create_index(
        "ix_pipeline_runs_pipeline_started_at",
        "pipeline_runs",
        ["pipeline", "started_at"],
        unique=False,
    )
    op.create_table(
        "pipeline_steps",
        sa.Column("pipeline_run_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=250), nullable=False),
        sa.Column("pipeline", sa.String(length=250), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("params_hash", sa.String(length=64), nullable=True),
        sa.Column("inputs_hash", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outputs_json", sa.Text(), nullable=True),
        sa.Column("error_json", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pipeline_run_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_pipeline_steps_pipeline_run_id_pipeline_runs"),
        ),
        sa.PrimaryKeyConstraint("pipeline_run_id", "step", name=op.f("pk_pipeline_steps")),
    )
    op.create_index(
        "ix_pipeline_steps_pipeline_step_cache_key",
        "pipeline_steps",
        ["pipeline", "step", "cache_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_pipeline_steps_pipeline_step_cache_key", table_name="pipeline_steps")
    op.drop_table("pipeline_steps")
    op.drop_index("ix_pipeline_runs_pipeline_started_at", table_name="pipeline_runs")
    op.drop_table("pipeline_runs")
