"""attempt tokens on operations; the leader lease"""

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    # The token of the dispatch now in force; reports carrying another one are refused.
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("attempt_token", sa.String(32), nullable=True))
    # One row per lease (the "leader": the backend that dispatches and supervises).
    op.create_table(
        "leases",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("attempt_token")
