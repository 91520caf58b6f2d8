"""Datasets: names and their immutable, content-hashed snapshot versions.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_datasets")),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("num_rows", sa.BigInteger(), nullable=False),
        sa.Column("num_bytes", sa.BigInteger(), nullable=False),
        sa.Column("schema_json", sa.Text(), nullable=False),
        sa.Column("profile_json", sa.Text(), nullable=False),
        sa.Column("source_json", sa.Text(), nullable=False),
        sa.Column("watermark_json", sa.Text(), nullable=True),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags_json", sa.Text(), nullable=False),
        sa.Column("user", sa.String(length=250), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"], ["datasets.name"], name=op.f("fk_dataset_versions_name_datasets")
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_dataset_versions")),
    )
    op.create_index(
        "ix_dataset_versions_name_seq", "dataset_versions", ["name", "seq"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_dataset_versions_name_seq", table_name="dataset_versions")
    op.drop_table("dataset_versions")
    op.drop_table("datasets")
