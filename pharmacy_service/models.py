"""Pharmacy service tables. Quantities are integers of a base unit; money is integer đồng."""

import peewee

from common.models import idempotency_model, outbox_model

db = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = db


OutboxMessage = outbox_model(BaseModel)
IdempotencyRecord = idempotency_model(BaseModel)
