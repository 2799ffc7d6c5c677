"""training jobs, models, inference jobs and inference files

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('training_jobs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('dataset_id', sa.Uuid(), nullable=False),
    sa.Column('annotation_set_id', sa.Uuid(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('model_id', sa.Uuid(), nullable=True),
    sa.Column('progress', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=200), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['annotation_set_id'], ['annotation_sets.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_training_jobs_tenant_created', ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index('ix_training_jobs_status', ['status'], unique=False)

    op.create_table('models',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('artifact_types', sa.JSON(), nullable=False),
    sa.Column('training_job_id', sa.Uuid(), nullable=True),
    sa.Column('dataset_id', sa.Uuid(), nullable=True),
    sa.Column('annotation_set_id', sa.Uuid(), nullable=True),
    sa.Column('eval_metrics', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('storage_key', sa.String(length=1000), nullable=False),
    sa.Column('feature_summary', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.create_index('ix_models_tenant_created', ['tenant_id', 'created_at'], unique=False)

    op.create_table('inference_jobs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total_files', sa.Integer(), nullable=False),
    sa.Column('processed_files', sa.Integer(), nullable=False),
    sa.Column('failed_files', sa.Integer(), nullable=False),
    sa.Column('total_detections', sa.Integer(), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inference_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_inference_jobs_tenant_created', ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index('ix_inference_jobs_status', ['status'], unique=False)

    op.create_table('inference_files',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('inference_job_id', sa.Uuid(), nullable=False),
    sa.Column('original_filename', sa.String(length=500), nullable=False),
    sa.Column('storage_key', sa.String(length=1000), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('source_audio_id', sa.Uuid(), nullable=True),
    sa.Column('duration_ms', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('detections', sa.JSON(), nullable=True),
    sa.Column('detection_count', sa.Integer(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sa.String(length=200), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inference_job_id'], ['inference_jobs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inference_files', schema=None) as batch_op:
        batch_op.create_index('ix_inference_files_job_created', ['inference_job_id', 'created_at'], unique=False)
        batch_op.create_index('ix_inference_files_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inference_files', schema=None) as batch_op:
        batch_op.drop_index('ix_inference_files_status')
        batch_op.drop_index('ix_inference_files_job_created')
    op.drop_table('inference_files')
    with op.batch_alter_table('inference_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_inference_jobs_status')
        batch_op.drop_index('ix_inference_jobs_tenant_created')
    op.drop_table('inference_jobs')
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.drop_index('ix_models_tenant_created')
    op.drop_table('models')
    with op.batch_alter_table('training_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_training_jobs_status')
        batch_op.drop_index('ix_training_jobs_tenant_created')
    op.drop_table('training_jobs')
