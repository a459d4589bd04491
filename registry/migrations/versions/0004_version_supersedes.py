"""A model version may name the version it supersedes: the same model and
circuit, upgraded from a tensor-code weight commitment (opened in every
proof) to a hiding Poseidon2 one (`zkaudit registry upgrade-commitment`).
Nullable, with a unique index so a version has at most one successor.

No database-level foreign key: SQLite adds or drops a constrained column
only by rebuilding the table, and `model_versions` cannot be dropped and
rebuilt in a transaction while attestations and proofs point to it (the
deferred foreign-key count never returns to zero). The store sets the
column only from a row it has just read, versions are never deleted, and
the link is also in the signed, logged record (by version label), which
`verify-log` recomputes from the row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('model_versions', sa.Column('supersedes_id', sa.Integer(), nullable=True))
    op.create_index('ix_model_versions_supersedes_id', 'model_versions', ['supersedes_id'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_model_versions_supersedes_id', table_name='model_versions')
    op.drop_column('model_versions', 'supersedes_id')
