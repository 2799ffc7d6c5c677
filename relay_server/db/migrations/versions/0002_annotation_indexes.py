"""annotation indexes: by audio file (cascades) and by set + artifact type

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.create_index('ix_annotations_audio_file', ['audio_file_id'], unique=False)
        batch_op.create_index('ix_annotations_set_type', ['annotation_set_id', 'artifact_type'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.drop_index('ix_annotations_set_type')
        batch_op.drop_index('ix_annotations_audio_file')
