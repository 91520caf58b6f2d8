"""Monitoring: feedback labels, check history, alerts and retraining records.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_feedback",
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("prediction_id", sa.String(length=64), nullable=False),
        sa.Column("label_text", sa.Text(), nullable=False),
        sa.Column("label_number", sa.Float(), nullable=True),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("model", "prediction_id", name=op.f("pk_monitoring_feedback")),
    )
    op.create_table(
        "monitoring_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor", sa.String(length=250), nullable=False),
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=True),
        sa.Column("window_end", sa.BigInteger(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("labelled", sa.Integer(), nullable=False),
        sa.Column("metrics_json", sa.Text(), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_checks")),
    )
    op.create_index(
        "ix_monitoring_checks_monitor_started_at",
        "monitoring_checks",
        ["monitor", "started_at"],
        unique=False,
    )
    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor", sa.String(length=250), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=250), nullable=False),
        sa.Column("metric", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("deliveries_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_alerts")),
    )
    op.create_index(
        "ix_monitoring_alerts_monitor_rule_created_at",
        "monitoring_alerts",
        ["monitor", "rule", "created_at"],
        unique=False,
    )
    op.create_table(
        "monitoring_retrains",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor", sa.String(length=250), nullable=False),
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("champion", sa.Integer(), nullable=True),
        sa.Column("challenger", sa.Integer(), nullable=True),
        sa.Column("steps_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_retrains")),
    )
    op.create_index(
        "ix_monitoring_retrains_model_created_at",
        "monitoring_retrains",
        ["model", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_monitoring_retrains_model_created_at", table_name="monitoring_retrains")
    op.drop_table("monitoring_retrains")
    op.drop_index("ix_monitoring_alerts_monitor_rule_created_at", table_name="monitoring_alerts")
    op.drop_table("monitoring_alerts")
    op.drop_index("ix_monitoring_checks_monitor_started_at", table_name="monitoring_checks")
    op.drop_table("monitoring_checks")
    op.drop_table("monitoring_feedback")
