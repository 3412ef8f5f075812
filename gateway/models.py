"""Gateway tables: users, the audit log, and the charge ledger of every visit."""

import peewee

from common.models import UtcDateTimeField, idempotency_model, outbox_model, utcnow

db = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = db


class User(BaseModel):
    username = peewee.CharField(max_length=64, unique=True)
    full_name = peewee.CharField(max_length=200)
    role = peewee.CharField(max_length=20)
    password_hash = peewee.CharField(max_length=255)
    active = peewee.BooleanField(default=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "app_user"


class AuditEntry(BaseModel):
    occurred_at = UtcDateTimeField(default=utcnow, index=True)
    actor = peewee.CharField(max_length=64)
    role = peewee.CharField(max_length=20)
    action = peewee.CharField(max_length=300)
    status_code = peewee.IntegerField()
    request_id = peewee.CharField(max_length=64)
    patient_id = peewee.CharField(max_length=64, null=True, index=True)

    class Meta:
        table_name = "audit_entry"


class Charge(BaseModel):
    key = peewee.CharField(max_length=200, unique=True)
    source = peewee.CharField(max_length=20)
    source_id = peewee.CharField(max_length=100)
    encounter_ref = peewee.CharField(max_length=100, index=True)
    patient_ref = peewee.CharField(max_length=100, index=True)
    item_kind = peewee.CharField(max_length=20)
    code = peewee.CharField(max_length=50)
    name = peewee.CharField(max_length=300)
    quantity = peewee.IntegerField()
    reversed_quantity = peewee.IntegerField(default=0)
    amount = peewee.BigIntegerField()
    reversed_amount = peewee.BigIntegerField(default=0)
    cost_amount = peewee.BigIntegerField(default=0)
    payload = peewee.TextField()
    flag = peewee.CharField(max_length=40, null=True, index=True)
    occurred_at = UtcDateTimeField()
    received_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "charge"


class ChargeReversal(BaseModel):
    key = peewee.CharField(max_length=200, unique=True)
    charge_key = peewee.CharField(max_length=200, index=True)
    quantity = peewee.IntegerField()
    amount = peewee.BigIntegerField()
    reason = peewee.TextField()
    payload = peewee.TextField()
    flag = peewee.CharField(max_length=40, null=True)
    received_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "charge_reversal"


OutboxMessage = outbox_model(BaseModel)
IdempotencyRecord = idempotency_model(BaseModel)
