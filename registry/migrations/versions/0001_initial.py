"""Initial registry schema: signers, models, versions, attestations, proofs,
revocations, request nonces, and the transparency log (entries, stored
subtree nodes, signed tree heads).

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('log_entries',
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('idx')
    )
    op.create_table('log_nodes',
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'idx')
    )
    op.create_table('registry_meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('signers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('proof_of_possession', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('public_key')
    )
    op.create_table('tree_heads',
    sa.Column('tree_size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.LargeBinary(), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('tree_size')
    )
    op.create_table('models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('name')
    )
    op.create_table('request_nonces',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['signer_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('nonce')
    )
    op.create_table('model_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('circuit_digest', sa.String(length=64), nullable=False),
    sa.Column('circuit_bin', sa.LargeBinary(), nullable=False),
    sa.Column('weight_commitment', sa.LargeBinary(), nullable=False),
    sa.Column('weight_commitment_digest', sa.String(length=64), nullable=False),
    sa.Column('summary_json', sa.Text(), nullable=False),
    sa.Column('intended_use', sa.Text(), nullable=False),
    sa.Column('training_data', sa.Text(), nullable=False),
    sa.Column('claimed_metrics_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('model_id', 'version', name='uq_model_versions_model_version')
    )
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_versions_circuit_digest'), ['circuit_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_versions_weight_commitment_digest'), ['weight_commitment_digest'], unique=False)

    op.create_table('attestations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('statement', sa.LargeBinary(), nullable=False),
    sa.Column('statement_digest', sa.String(length=64), nullable=False),
    sa.Column('signers_digest', sa.String(length=64), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=True),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('statement_digest', 'signers_digest', name='uq_attestations_statement_signers')
    )
    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attestations_model_version_id'), ['model_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attestations_statement_digest'), ['statement_digest'], unique=False)

    op.create_table('proofs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=False),
    sa.Column('submitter_id', sa.Integer(), nullable=False),
    sa.Column('statement', sa.String(length=64), nullable=True),
    sa.Column('proof', sa.LargeBinary(), nullable=False),
    sa.Column('proof_digest', sa.String(length=64), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('output_json', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('verifier_version', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], ),
    sa.ForeignKeyConstraint(['submitter_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index')
    )
    with op.batch_alter_table('proofs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proofs_model_version_id'), ['model_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proofs_proof_digest'), ['proof_digest'], unique=False)

    op.create_table('revocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], ),
    sa.ForeignKeyConstraint(['signer_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('model_version_id')
    )
    op.create_table('attestation_signers',
    sa.Column('attestation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attestation_id'], ['attestations.id'], ),
    sa.ForeignKeyConstraint(['signer_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('attestation_id', 'position')
    )


def downgrade() -> None:
    op.drop_table('attestation_signers')
    op.drop_table('revocations')
    with op.batch_alter_table('proofs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proofs_proof_digest'))
        batch_op.drop_index(batch_op.f('ix_proofs_model_version_id'))

    op.drop_table('proofs')
    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attestations_statement_digest'))
        batch_op.drop_index(batch_op.f('ix_attestations_model_version_id'))

    op.drop_table('attestations')
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_versions_weight_commitment_digest'))
        batch_op.drop_index(batch_op.f('ix_model_versions_circuit_digest'))

    op.drop_table('model_versions')
    op.drop_table('request_nonces')
    op.drop_table('models')
    op.drop_table('tree_heads')
    op.drop_table('signers')
    op.drop_table('registry_meta')
    op.drop_table('log_nodes')
    op.drop_table('log_entries')
