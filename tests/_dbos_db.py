"""Reads DBOS's system database directly, as a test checks what DBOS has journaled (SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Any


def query_dbos(db_url: str, sql: str, *, while_launching: Any = None, **params: Any) -> list[Any]:
    """The rows of `sql` on the system database at `db_url`; `{schema}` in `sql` stands for DBOS's schema prefix.

    With `while_launching` given, it is returned instead while DBOS has not made its tables yet.
    """
    import sqlalchemy as sa

    url = db_url.replace('postgresql://', 'postgresql+psycopg://', 1)
    schema = 'dbos.' if url.startswith('postgresql') else ''
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(sql.format(schema=schema)), params).all())
    except sa.exc.OperationalError:
        if while_launching is None:
            raise
        return while_launching
    finally:
        engine.dispose()
