"""Other funding recorded on a bill: who pays (source), for whom (target), on a line or on the whole visit."""

import peewee

from billing_service.models import BaseModel, Invoice, InvoiceLine
from common.models import UtcDateTimeField, utcnow


class OtherFunding(BaseModel):
    """A grant of other funding; withdrawn grants stay on file (append-only), the split ignores them."""

    invoice = peewee.ForeignKeyField(Invoice, backref="other_funding", on_delete="RESTRICT")
    line = peewee.ForeignKeyField(InvoiceLine, null=True, backref="other_funding", on_delete="RESTRICT")
    source = peewee.CharField(max_length=20)  # state_budget | foreign_aid | domestic_aid | hospital | other
    target = peewee.CharField(max_length=10)  # patient | facility
    amount = peewee.BigIntegerField()
    applied_amount = peewee.BigIntegerField(default=0)  # what the bill's lines could take of it, after each split
    reference = peewee.CharField(max_length=200, default="")  # programme / decision / voucher number
    note = peewee.CharField(max_length=500, default="")
    state = peewee.CharField(max_length=10, default="active", index=True)  # active | withdrawn
    created_by = peewee.CharField(max_length=100)
    created_at = UtcDateTimeField(default=utcnow)
    withdrawn_by = peewee.CharField(max_length=100, null=True)
    withdrawn_at = UtcDateTimeField(null=True)
    withdrawal_reason = peewee.CharField(max_length=500, null=True)

    class Meta:
        table_name = "other_funding"
