"""Alembic environment for the zkaudit registry.

`zkaudit registry init|upgrade` run migrations programmatically and pass an
open connection in `config.attributes["connection"]`. Run by hand
(`alembic -c registry/alembic.ini upgrade head`), the database comes from
`-x url=...` or `$ZKAUDIT_REGISTRY_URL`.
"""

from alembic import context

from zkaudit.registry.db import make_engine, resolve_url
from zkaudit.registry.models import Base

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(resolve_url(context.get_x_argument(as_dictionary=True).get("url")))
    with engine.begin() as conn:
        _run(conn)
