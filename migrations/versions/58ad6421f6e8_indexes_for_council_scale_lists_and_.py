"""indexes for council-scale lists and counts

A person's, a plan's and a service's actions are counted and listed by status and
deadline; these composite indexes let the database read only the index for that,
however many actions the council has (make bench measured it). They start with the
foreign-key column, so the single-column indexes they replace are no longer needed.

Revision ID: 58ad6421f6e8
Revises: 6ceb8ce74189
Create Date: 2026-11-24 22:41:13.650111

"""
from alembic import op
import sqlalchemy as sa

import qa_audit.types


# revision identifiers, used by Alembic.
revision = '58ad6421f6e8'
down_revision = '6ceb8ce74189'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_owner_id'))
        batch_op.drop_index(batch_op.f('ix_actions_owner_status'))
        batch_op.drop_index(batch_op.f('ix_actions_plan_priority_id'))
        batch_op.drop_index(batch_op.f('ix_actions_service_id'))
        batch_op.create_index('ix_actions_owner_status_due_date', ['owner_id', 'status', 'due_date'], unique=False)
        batch_op.create_index('ix_actions_plan_priority_status_due_date', ['plan_priority_id', 'status', 'due_date', 'completed_at'], unique=False)
        batch_op.create_index('ix_actions_service_status_due_date', ['service_id', 'status', 'due_date'], unique=False)



def downgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_service_status_due_date')
        batch_op.drop_index('ix_actions_plan_priority_status_due_date')
        batch_op.drop_index('ix_actions_owner_status_due_date')
        batch_op.create_index(batch_op.f('ix_actions_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_plan_priority_id'), ['plan_priority_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_owner_status'), ['owner_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_owner_id'), ['owner_id'], unique=False)

