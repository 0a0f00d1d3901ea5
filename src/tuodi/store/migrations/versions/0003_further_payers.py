"""Further payers after the three tiers (CONTRACT.md "Further payers"): a person's household
(`hh_no`) for family-unit payers; `oth_pay` (the further payers' sum) beside the three tiers; and,
in a shape that needs no column per payer, each further payer's net amount on a claim and its
change in an adjustment (JSON objects keyed by payer id), and the claim's `setldetail` rows as
settled. A payer added in a policy file needs no migration.

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hh_no', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_persons_hh_no'), ['hh_no'], unique=False)
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oth_pay', sa.BigInteger(), nullable=True, server_default='0'))
        batch_op.add_column(sa.Column('net_oth_pay', sa.BigInteger(), nullable=True, server_default='0'))
        batch_op.add_column(sa.Column('net_payments', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('setldetail', sa.Text(), nullable=True))
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oth_pay', sa.BigInteger(), nullable=True, server_default='0'))
        batch_op.add_column(sa.Column('payments', sa.Text(), nullable=True))
    with op.batch_alter_table('person_years', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oth_pay', sa.BigInteger(), nullable=True, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('person_years', schema=None) as batch_op:
        batch_op.drop_column('oth_pay')
    with op.batch_alter_table('adjustments', schema=None) as batch_op:
        batch_op.drop_column('payments')
        batch_op.drop_column('oth_pay')
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_column('setldetail')
        batch_op.drop_column('net_payments')
        batch_op.drop_column('net_oth_pay')
        batch_op.drop_column('oth_pay')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_hh_no'))
        batch_op.drop_column('hh_no')
