"""The migrations build exactly the schema the models describe: a column added to a model
without its migration (or the reverse) fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from relay.storage.models import Base


def test_the_migrated_database_matches_the_models(rt):
    with rt.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []
