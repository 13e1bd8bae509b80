"""no index on actions' due date alone

Every query on an action's due date also asks for its status (overdue, due soon, the
BRAG colours): ix_actions_status_due_date and the composite indexes serve them. Left on
its own, this index tempted PostgreSQL into reading every past-due action of the
council, in date order, to find a plan's twenty most overdue (make bench found it).

The plan-priority index also carries the owner and the service, so the tracker reads
who and which services its plan's actions are for from the index alone.

Revision ID: ccbc5735d832
Revises: 58ad6421f6e8
Create Date: 2026-11-24 23:29:08.174179

"""
from alembic import op
import sqlalchemy as sa

import qa_audit.types


# revision identifiers, used by Alembic.
revision = 'ccbc5735d832'
down_revision = '58ad6421f6e8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_due_date'))
        batch_op.drop_index('ix_actions_plan_priority_status_due_date')
        batch_op.create_index(
            'ix_actions_plan_priority_status_due_date',
            ['plan_priority_id', 'status', 'due_date', 'completed_at', 'owner_id', 'service_id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_plan_priority_status_due_date')
        batch_op.create_index(
            'ix_actions_plan_priority_status_due_date', ['plan_priority_id', 'status', 'due_date', 'completed_at'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_actions_due_date'), ['due_date'], unique=False)

