"""Revocations with cascade (design/statements.md §5): a signer key revoked
from a time on, a verifier version revoked (its accepted proofs show
"re-verify"), and re-verifications of stored proofs. Every row is a
transparency-log leaf.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_revocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('from_time', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('revoker_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['revoker_id'], ['signers.id'], ),
    sa.ForeignKeyConstraint(['signer_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('signer_id')
    )
    op.create_table('verifier_revocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('verifier_version', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('revoker_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['revoker_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('verifier_version')
    )
    op.create_table('reverifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proof_id', sa.Integer(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('verifier_version', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['proof_id'], ['proofs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index')
    )
    with op.batch_alter_table('reverifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reverifications_proof_id'), ['proof_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reverifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reverifications_proof_id'))
    op.drop_table('reverifications')
    op.drop_table('verifier_revocations')
    op.drop_table('key_revocations')
