"""The consent chain (design/statements.md §5): custodian-signed dataset
commitments, IRB consent-table versions (one successor per version, one
version number per IRB key and purpose), and verified consent proofs over
both. Every row is a transparency-log leaf.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consent_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_digest', sa.String(length=64), nullable=False),
    sa.Column('record_json', sa.Text(), nullable=False),
    sa.Column('irb_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('num_rows', sa.BigInteger(), nullable=False),
    sa.Column('distinctness_proof', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['irb_id'], ['signers.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['consent_tables.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('irb_id', 'purpose', 'version', name='uq_consent_tables_irb_purpose_version'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('record_digest'),
    sa.UniqueConstraint('supersedes_id')
    )
    op.create_table('dataset_commitments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_digest', sa.String(length=64), nullable=False),
    sa.Column('record_json', sa.Text(), nullable=False),
    sa.Column('schema_digest', sa.String(length=64), nullable=False),
    sa.Column('num_rows', sa.BigInteger(), nullable=False),
    sa.Column('custodian_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['custodian_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('record_digest')
    )
    with op.batch_alter_table('dataset_commitments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataset_commitments_schema_digest'), ['schema_digest'], unique=False)

    op.create_table('consent_proofs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proof_digest', sa.String(length=64), nullable=False),
    sa.Column('proof', sa.LargeBinary(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('consent_table_id', sa.Integer(), nullable=False),
    sa.Column('prover_id', sa.Integer(), nullable=False),
    sa.Column('unique_ids', sa.Boolean(), nullable=False),
    sa.Column('zero_knowledge', sa.Boolean(), nullable=False),
    sa.Column('allow_not_zero_knowledge', sa.Boolean(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('output_json', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('verifier_version', sa.String(length=200), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['consent_table_id'], ['consent_tables.id'], ),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset_commitments.id'], ),
    sa.ForeignKeyConstraint(['prover_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('proof_digest')
    )
    with op.batch_alter_table('consent_proofs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_proofs_consent_table_id'), ['consent_table_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_proofs_dataset_id'), ['dataset_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('consent_proofs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_proofs_dataset_id'))
        batch_op.drop_index(batch_op.f('ix_consent_proofs_consent_table_id'))

    op.drop_table('consent_proofs')
    with op.batch_alter_table('dataset_commitments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataset_commitments_schema_digest'))

    op.drop_table('dataset_commitments')
    op.drop_table('consent_tables')
