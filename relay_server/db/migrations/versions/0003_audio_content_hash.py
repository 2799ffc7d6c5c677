"""audio files: SHA-256 of the stored bytes, for duplicate checks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audio_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_sha256', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_audio_dataset_sha256', ['dataset_id', 'content_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audio_files', schema=None) as batch_op:
        batch_op.drop_index('ix_audio_dataset_sha256')
        batch_op.drop_column('content_sha256')
