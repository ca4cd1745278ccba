"""operations: the bulky columns last (SQLite), an index for the newest-first page

SQLite stores a row's columns in order and spills a long row into overflow pages, so a
query for a column that comes after a backtest's result (tens of kilobytes) walks that
result's pages for every row: listing 50 of 250 operations took 7 times longer than with
the result at the end, and grew with every stored operation. The table is rebuilt with
``strategy_yaml`` and ``result`` last (PostgreSQL keeps long values out of line already),
and ``(created_at, id)`` is indexed so the newest-first page reads only its own rows.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"


_BULKY = ("strategy_yaml", "result")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Rebuilt from the table as it stands (batch mode reflects it, indexes included),
        # with the same columns in a new order.
        names = [column["name"] for column in sa.inspect(bind).get_columns("operations")]
        order = tuple(name for name in names if name not in _BULKY) + _BULKY
        with op.batch_alter_table("operations", recreate="always", partial_reordering=[order]):
            pass
    op.create_index("ix_operations_created_at_id", "operations", ["created_at", "id"])


def downgrade() -> None:
    # The column order is only physical: nothing to undo but the index.
    op.drop_index("ix_operations_created_at_id", table_name="operations")
