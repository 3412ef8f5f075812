"""Gateway tables: users, the audit log, patients with their cards and visits, and the charge ledger of every visit."""

import peewee

from common.chain import HASH_LENGTH, Chain
from common.db import ServiceDatabaseProxy
from common.models import UtcDateTimeField, idempotency_model, integrity_alert_model, outbox_model, utcnow

db = ServiceDatabaseProxy()


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
    # set when an admin creates the account or resets its password: the user must choose their own at sign-in
    must_change_password = peewee.BooleanField(default=False)
    password_changed_at = UtcDateTimeField(null=True)

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
    # set on lines written later from the spool (gateway.audit_spool): a line drained twice is stored once
    entry_key = peewee.CharField(max_length=32, null=True, unique=True)
    details = peewee.TextField(null=True)  # JSON: what a read covered (a claim batch, how many patients)
    # the audit chain (common.chain): its place in the one chain, set by the spool drain, the chain's one writer
    chain_seq = peewee.BigIntegerField(null=True, unique=True)
    prev_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)
    row_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)

    class Meta:
        table_name = "audit_entry"


class SignInFailure(BaseModel):
    """One wrong password, per account (`account:<name>`) and per client address (`address:<ip>`): counted over a
    window by every gateway process alike to lock sign-in for a while."""

    key = peewee.CharField(max_length=100)
    failed_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "sign_in_failure"
        indexes = ((("key", "failed_at"), False),)


class Patient(BaseModel):
    full_name = peewee.CharField(max_length=200)
    search_name = peewee.CharField(max_length=200, default="", index=True)  # folded (gateway.patients.search)
    birth_date = peewee.DateField()
    sex = peewee.CharField(max_length=10)
    cccd = peewee.CharField(max_length=12, unique=True)
    phone = peewee.CharField(max_length=20, default="")
    address = peewee.CharField(max_length=500, default="")
    open_encounter_id = peewee.IntegerField(null=True)  # claimed by a guarded update: one open visit at a time
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "patient"


class Coverage(BaseModel):
    patient = peewee.ForeignKeyField(Patient, backref="coverages", on_delete="RESTRICT")
    card_number = peewee.CharField(max_length=15)
    insurance_number = peewee.CharField(max_length=10, index=True)  # mã số BHXH: the card's last 10 digits
    registered_facility = peewee.CharField(max_length=5)
    valid_from = peewee.DateField()
    valid_to = peewee.DateField()
    benefit_level = peewee.IntegerField()
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "coverage"
        indexes = ((("patient", "card_number", "valid_from"), True),)


class Practitioner(BaseModel):
    """A doctor, nurse, technician or pharmacist: who orders and performs what a claim lists (MA_BAC_SI)."""

    full_name = peewee.CharField(max_length=200)
    licence_number = peewee.CharField(max_length=50, unique=True)  # practising certificate (CCHN), e.g. 001234/HNO-CCHN
    profession = peewee.CharField(max_length=20, default="doctor")  # doctor | nurse | technician | pharmacist | midwife
    department = peewee.CharField(max_length=100)  # MA_KHOA, e.g. K01
    active = peewee.BooleanField(default=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "practitioner"


class Encounter(BaseModel):
    patient = peewee.ForeignKeyField(Patient, backref="encounters", on_delete="RESTRICT")
    practitioner = peewee.ForeignKeyField(Practitioner, null=True, on_delete="RESTRICT")  # the visit's doctor
    kind = peewee.CharField(max_length=20)
    department = peewee.CharField(max_length=100)
    in_network = peewee.BooleanField(default=True)
    network_rate = peewee.IntegerField(default=100)
    status = peewee.CharField(max_length=10, default="open", index=True)
    opened_at = UtcDateTimeField(default=utcnow)
    diagnosis_main = peewee.CharField(max_length=20, null=True)
    diagnosis_other = peewee.CharField(max_length=200, null=True)
    discharged_at = UtcDateTimeField(null=True)
    closed_at = UtcDateTimeField(null=True)
    version = peewee.IntegerField(default=1)  # bumped on every change sent to billing

    class Meta:
        table_name = "encounter"


class CheckIn(BaseModel):
    """The check-in record of QĐ 4750 of one insured visit, kept in its own outbox until the BHYT portal takes it."""

    encounter = peewee.ForeignKeyField(Encounter, unique=True, backref="check_ins", on_delete="RESTRICT")
    payload = peewee.TextField()  # the GIAMDINHHS envelope with the visit's CHECKIN file, as sent
    state = peewee.CharField(max_length=10, default="pending", index=True)  # pending | sent | rejected
    attempts = peewee.IntegerField(default=0)
    next_attempt_at = UtcDateTimeField(default=utcnow)
    last_error = peewee.CharField(max_length=500, null=True)
    portal_reference = peewee.CharField(max_length=100, null=True)  # the portal's receipt number
    created_at = UtcDateTimeField(default=utcnow)
    sent_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "check_in"


class EncounterFlag(BaseModel):
    key = peewee.CharField(max_length=200, unique=True)
    encounter_ref = peewee.CharField(max_length=100, index=True)
    patient_ref = peewee.CharField(max_length=100, index=True)
    kind = peewee.CharField(max_length=20)
    source = peewee.CharField(max_length=20)
    message = peewee.TextField()
    details = peewee.TextField(default="{}")
    matched = peewee.BooleanField(default=True)  # false when the visit or patient is unknown here
    raised_at = UtcDateTimeField()
    received_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "encounter_flag"


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
    prev_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # the source's previous charge's row_hash
    row_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # common.chain: of prev_hash and the content

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
IntegrityAlert = integrity_alert_model(BaseModel)


class ChainHead(BaseModel):
    """The head of a chain whose rows have no row of their own that writers lock: charges per source, the audit."""

    chain = peewee.CharField(max_length=60)
    stream = peewee.CharField(max_length=100)
    head = peewee.CharField(max_length=HASH_LENGTH, null=True)
    length = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "chain_head"
        indexes = ((("chain", "stream"), True),)


# Charges as they arrived, one chain per source (lab, pharmacy): the fields finance may change later (the visit a
# flagged charge is attached to, its flag, what reversals took off) are not hashed; the payload keeps the event.
CHARGE_CHAIN = Chain("gateway.charges", Charge, "source",
                     ("key", "source", "source_id", "item_kind", "code", "name", "quantity", "amount", "cost_amount",
                      "payload", "occurred_at", "received_at"), ChainHead, head_key="stream", head_field="head")
# The audit log, one chain in chain_seq order, appended by the spool drain.
AUDIT_CHAIN = Chain("gateway.audit", AuditEntry, None,
                    ("chain_seq", "occurred_at", "actor", "role", "action", "status_code", "request_id", "patient_id",
                     "entry_key", "details"), ChainHead, head_key="stream", head_field="head", order="chain_seq")
