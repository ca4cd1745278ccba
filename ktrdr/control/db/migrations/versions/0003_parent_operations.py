"""parent and child operations (walk-forward folds, sweep trials)"""

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("child_key", sa.String(64), nullable=True))
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
