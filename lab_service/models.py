"""Lab tables. Quantities are integers of the reagent's base unit; money is integer đồng."""

import peewee

from common.models import UtcDateTimeField, idempotency_model, outbox_model, utcnow

db = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = db


class Reagent(BaseModel):
    code = peewee.CharField(max_length=40, unique=True)
    name = peewee.CharField(max_length=200)
    manufacturer = peewee.CharField(max_length=200)
    base_unit = peewee.CharField(max_length=20)
    reorder_level = peewee.IntegerField(default=0)
    unit_cost_amount = peewee.BigIntegerField(default=0)
    requires_qc_release = peewee.BooleanField(default=False)
    stability_days_after_opening = peewee.IntegerField(null=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "reagent"


OutboxMessage = outbox_model(BaseModel)
IdempotencyRecord = idempotency_model(BaseModel)
