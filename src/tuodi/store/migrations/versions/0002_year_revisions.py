"""Revisions of a year: adjustments caused by a settlement dated before others, or by an identity
added or ended, beside those caused by a reversal.

Revision ID: 0002
Revises: 0001
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('revisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('psn_no', sa.String(length=64), nullable=False),
    sa.Column('cause', sa.String(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('identity_id', sa.Integer(), nullable=True),
    sa.Column('revised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revised_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['psn_no'], ['persons.psn_no'], name=op.f('fk_revisions_psn_no_persons')),
    sa.ForeignKeyConstraint(['seq'], ['claims.seq'], name=op.f('fk_revisions_seq_claims')),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_revisions_identity_id_identities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revisions'))
    )
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revisions_seq'), ['seq'], unique=False)
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.alter_column('reversal_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('revision_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_adjustments_revision_id_revisions'), 'revisions',
                                    ['revision_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_adjustments_revision_id'), ['revision_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustments_revision_id'))
        batch_op.drop_constraint(batch_op.f('fk_adjustments_revision_id_revisions'), type_='foreignkey')
        batch_op.drop_column('revision_id')
        batch_op.alter_column('reversal_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revisions_seq'))
    op.drop_table('revisions')
