"""parent and child operations (walk-forward folds, sweep trials)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _new_columns() -> list[sa.Column]:
    return [
        sa.Column("parent_id", sa.String(32), nullable=True),
        sa.Column("child_key", sa.String(64), nullable=True),
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Rebuilt with the new columns before the bulky ones, which stay last (see 0003).
        with op.batch_alter_table("operations", recreate="always") as batch:
            for column in _new_columns():
                batch.add_column(column, insert_before="strategy_yaml")
    else:  # PostgreSQL keeps long values out of line: appending costs nothing
        for column in _new_columns():
            op.add_column("operations", column)
    # A parent's children are listed by parent id; the pair is unique, so that a driver
    # asking twice for "fold-3-train" (a re-queued driver) gets the child already there.
    op.create_index("ix_operations_parent_id", "operations", ["parent_id"])
    op.create_index(
        "uq_operations_parent_child_key", "operations", ["parent_id", "child_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_operations_parent_child_key", table_name="operations")
    op.drop_index("ix_operations_parent_id", table_name="operations")
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("child_key")
        batch.drop_column("parent_id")
