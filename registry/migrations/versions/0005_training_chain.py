"""The training chain (design/statements.md §5): training runs registered
before any coin, the auditor's coin (one per run), verified training proofs
with the registry's own accountant block, and link proofs from a training
proof's c_theta to a model version. Every row is a transparency-log leaf.
An "auditor" signer role is new too (roles are plain strings: no schema change).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('training_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('record_json', sa.Text(), nullable=False),
    sa.Column('policy_json', sa.Text(), nullable=False),
    sa.Column('policy_digest', sa.String(length=64), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('consent_proof_id', sa.Integer(), nullable=True),
    sa.Column('tape_commitment', sa.String(length=64), nullable=False),
    sa.Column('auditor_public_key', sa.LargeBinary(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['consent_proof_id'], ['consent_proofs.id'], ),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset_commitments.id'], ),
    sa.ForeignKeyConstraint(['trainer_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('run_id')
    )
    op.create_index(op.f('ix_training_runs_dataset_id'), 'training_runs', ['dataset_id'], unique=False)
    op.create_table('coins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('training_run_id', sa.Integer(), nullable=False),
    sa.Column('auditor_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('coin', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['auditor_id'], ['signers.id'], ),
    sa.ForeignKeyConstraint(['training_run_id'], ['training_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('training_run_id')
    )
    op.create_table('training_proofs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proof_digest', sa.String(length=64), nullable=False),
    sa.Column('proof', sa.LargeBinary(), nullable=False),
    sa.Column('training_run_id', sa.Integer(), nullable=False),
    sa.Column('prover_id', sa.Integer(), nullable=False),
    sa.Column('theta_commitment', sa.LargeBinary(), nullable=False),
    sa.Column('theta_commitment_digest', sa.String(length=64), nullable=False),
    sa.Column('accountant_json', sa.Text(), nullable=False),
    sa.Column('zero_knowledge', sa.Boolean(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('output_json', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('verifier_version', sa.String(length=200), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['prover_id'], ['signers.id'], ),
    sa.ForeignKeyConstraint(['training_run_id'], ['training_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('proof_digest'),
    sa.UniqueConstraint('training_run_id')
    )
    op.create_index(op.f('ix_training_proofs_theta_commitment_digest'), 'training_proofs', ['theta_commitment_digest'], unique=False)
    op.create_table('link_proofs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proof_digest', sa.String(length=64), nullable=False),
    sa.Column('proof', sa.LargeBinary(), nullable=False),
    sa.Column('training_proof_id', sa.Integer(), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('saturated', sa.BigInteger(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('output_json', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('verifier_version', sa.String(length=200), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], ),
    sa.ForeignKeyConstraint(['training_proof_id'], ['training_proofs.id'], ),
    sa.ForeignKeyConstraint(['vendor_id'], ['signers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index'),
    sa.UniqueConstraint('model_version_id'),
    sa.UniqueConstraint('proof_digest')
    )
    op.create_index(op.f('ix_link_proofs_training_proof_id'), 'link_proofs', ['training_proof_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_link_proofs_training_proof_id'), table_name='link_proofs')
    op.drop_table('link_proofs')
    op.drop_index(op.f('ix_training_proofs_theta_commitment_digest'), table_name='training_proofs')
    op.drop_table('training_proofs')
    op.drop_table('coins')
    op.drop_index(op.f('ix_training_runs_dataset_id'), table_name='training_runs')
    op.drop_table('training_runs')
