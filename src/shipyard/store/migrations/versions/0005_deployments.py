"""Deployments: every model version put into service, with its traffic policy.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("model", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=250), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("feature_service", sa.String(length=250), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("user", sa.String(length=250), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
    )
    op.create_index(
        "ix_deployments_name_created_at", "deployments", ["name", "created_at"], unique=False
    )
    op.create_index(
        "ix_deployments_model_version", "deployments", ["model", "version"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_deployments_model_version", table_name="deployments")
    op.drop_index("ix_deployments_name_created_at", table_name="deployments")
    op.drop_table("deployments")
