"""A model version may name the version it supersedes: the same model and
circuit, upgraded from a tensor-code weight commitment (opened in every
proof) to a hiding Poseidon2 one (`zkaudit registry upgrade-commitment`).
Nullable, and unique so a version has at most one successor.

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
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_model_versions_supersedes_id', ['supersedes_id'])
        batch_op.create_foreign_key('fk_model_versions_supersedes_id', 'model_versions', ['supersedes_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_model_versions_supersedes_id', type_='foreignkey')
        batch_op.drop_constraint('uq_model_versions_supersedes_id', type_='unique')
        batch_op.drop_column('supersedes_id')
