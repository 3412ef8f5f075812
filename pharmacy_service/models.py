"""Pharmacy service tables. Quantities are integers of a base unit; money is integer đồng."""

import peewee

from common.chain import HASH_LENGTH, Chain
from common.db import ServiceDatabaseProxy
from common.models import UtcDateTimeField, idempotency_model, integrity_alert_model, outbox_model, utcnow

db = ServiceDatabaseProxy()

LOT_STATUSES = ("available", "quarantined", "recalled")
BUCKETS = ("shelf", "quarantine")  # shelf: dispensable if the lot is; quarantine: held apart, never dispensed


class BaseModel(peewee.Model):
    class Meta:
        database = db


class Drug(BaseModel):
    code = peewee.CharField(max_length=40, unique=True)  # BHYT MA_THUOC
    name = peewee.CharField(max_length=200)
    active_ingredient = peewee.CharField(max_length=200)
    strength = peewee.CharField(max_length=100)
    dosage_form = peewee.CharField(max_length=100)
    route = peewee.CharField(max_length=50)
    atc_code = peewee.CharField(max_length=10, index=True)
    registration_number = peewee.CharField(max_length=40)
    base_unit = peewee.CharField(max_length=20)
    unit_name = peewee.CharField(max_length=30, default="")  # DON_VI_TINH as the national drug list writes it: Viên
    gtin = peewee.CharField(max_length=14, unique=True, null=True)  # GTIN-14, zero-padded
    price_amount = peewee.BigIntegerField()  # per base unit
    insurance_scope = peewee.SmallIntegerField(default=1)  # 1 in the BHYT list, 2 outside
    insurance_rate = peewee.IntegerField(default=100)  # TYLE_TT_BH %
    reorder_level = peewee.IntegerField(default=0)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "drug"


class DrugLot(BaseModel):
    drug = peewee.ForeignKeyField(Drug, backref="lots", on_delete="RESTRICT")
    lot_number = peewee.CharField(max_length=20)
    expires_on = peewee.DateField(index=True)
    supplier = peewee.CharField(max_length=200)
    unit_cost_amount = peewee.BigIntegerField()  # per base unit
    quantity_received = peewee.IntegerField(default=0)
    quantity_on_hand = peewee.IntegerField(default=0)  # on the shelf
    quantity_quarantined = peewee.IntegerField(default=0)  # returned after expiry or recall, held apart
    status = peewee.CharField(max_length=16, default="available")
    status_reason = peewee.TextField(null=True)
    received_at = UtcDateTimeField(default=utcnow)
    chain_head = peewee.CharField(max_length=HASH_LENGTH, null=True)  # row_hash of the lot's last stock-card row

    class Meta:
        table_name = "drug_lot"
        indexes = ((("drug", "lot_number"), True),)


class StockEntry(BaseModel):
    """One line of the append-only stock card; the balances of a lot are the sums of its entries."""

    drug = peewee.ForeignKeyField(Drug, backref="stock_entries", on_delete="RESTRICT")
    lot = peewee.ForeignKeyField(DrugLot, backref="stock_entries", on_delete="RESTRICT")
    kind = peewee.CharField(max_length=20)  # receipt, dispense, return, count, adjustment, quarantine, release, recall
    bucket = peewee.CharField(max_length=12, default="shelf")
    quantity_change = peewee.IntegerField()
    balance_after = peewee.IntegerField()  # the lot's quantity in `bucket` after this entry
    reason = peewee.TextField(null=True)
    reference = peewee.CharField(max_length=100, null=True)  # dispense-line:12, return-line:3, gs1-serial:...
    actor = peewee.CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow)
    prev_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # the lot's previous row's row_hash
    row_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # common.chain: of prev_hash and the content

    class Meta:
        table_name = "stock_entry"


class Prescription(BaseModel):
    encounter_id = peewee.CharField(max_length=100, index=True)
    patient_id = peewee.CharField(max_length=100, index=True)
    prescriber = peewee.CharField(max_length=200)
    prescriber_id = peewee.CharField(max_length=100, null=True)  # the gateway's practitioner: MA_BAC_SI of its lines
    created_by = peewee.CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "prescription"


class PrescriptionLine(BaseModel):
    prescription = peewee.ForeignKeyField(Prescription, backref="lines", on_delete="CASCADE")
    drug = peewee.ForeignKeyField(Drug, on_delete="RESTRICT")
    quantity = peewee.IntegerField()
    quantity_dispensed = peewee.IntegerField(default=0)
    instructions = peewee.TextField(default="")

    class Meta:
        table_name = "prescription_line"


class Dispense(BaseModel):
    prescription = peewee.ForeignKeyField(Prescription, backref="dispenses", on_delete="RESTRICT")
    encounter_id = peewee.CharField(max_length=100, index=True)
    patient_id = peewee.CharField(max_length=100, index=True)
    dispensed_by = peewee.CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "dispense"


class DispenseLine(BaseModel):
    dispense = peewee.ForeignKeyField(Dispense, backref="lines", on_delete="RESTRICT")
    prescription_line = peewee.ForeignKeyField(PrescriptionLine, on_delete="RESTRICT")
    drug = peewee.ForeignKeyField(Drug, on_delete="RESTRICT")
    quantity = peewee.IntegerField()
    quantity_returned = peewee.IntegerField(default=0)
    unit_price_amount = peewee.BigIntegerField()
    amount = peewee.BigIntegerField()
    cost_amount = peewee.BigIntegerField()

    class Meta:
        table_name = "dispense_line"


class DispenseLotPick(BaseModel):
    """How much of a dispensed line came from which lot (what a recall traces and a return puts back)."""

    dispense_line = peewee.ForeignKeyField(DispenseLine, backref="picks", on_delete="RESTRICT")
    lot = peewee.ForeignKeyField(DrugLot, backref="picks", on_delete="RESTRICT")
    quantity = peewee.IntegerField()
    quantity_returned = peewee.IntegerField(default=0)
    unit_cost_amount = peewee.BigIntegerField()

    class Meta:
        table_name = "dispense_lot_pick"


class DrugReturn(BaseModel):
    dispense = peewee.ForeignKeyField(Dispense, backref="returns", on_delete="RESTRICT")
    reason = peewee.TextField()
    returned_by = peewee.CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "drug_return"


class ReturnLine(BaseModel):
    drug_return = peewee.ForeignKeyField(DrugReturn, backref="lines", on_delete="RESTRICT")
    dispense_line = peewee.ForeignKeyField(DispenseLine, backref="return_lines", on_delete="RESTRICT")
    quantity = peewee.IntegerField()
    amount = peewee.BigIntegerField()

    class Meta:
        table_name = "return_line"


class Recall(BaseModel):
    lot = peewee.ForeignKeyField(DrugLot, backref="recalls", on_delete="RESTRICT", unique=True)
    reason = peewee.TextField()
    recalled_by = peewee.CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow)
    kind = peewee.CharField(max_length=16, default="defective")  # defective | precautionary
    money = peewee.CharField(max_length=16, default="defective_only")  # all | defective_only | none
    money_fixed = peewee.BooleanField(default=False)  # the dispensed lines' charges were taken back

    class Meta:
        table_name = "recall"


class Alert(BaseModel):
    kind = peewee.CharField(max_length=20)  # below_reorder, expiring_90, expiring_30, expired
    drug = peewee.ForeignKeyField(Drug, backref="alerts", on_delete="RESTRICT")
    lot = peewee.ForeignKeyField(DrugLot, null=True, on_delete="RESTRICT")
    message = peewee.TextField()
    details = peewee.TextField(default="{}")
    status = peewee.CharField(max_length=10, default="open", index=True)
    open_key = peewee.CharField(max_length=120, null=True, unique=True)  # set while open: one open per condition
    created_at = UtcDateTimeField(default=utcnow)
    resolved_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "pharmacy_alert"


OutboxMessage = outbox_model(BaseModel)
IdempotencyRecord = idempotency_model(BaseModel)
IntegrityAlert = integrity_alert_model(BaseModel)

# The stock card, one chain per drug lot; its head is on the lot row every writer of the lot locks.
STOCK_CARD_CHAIN = Chain("pharmacy.drug_lot_stock_card", StockEntry, "lot",
                         ("drug", "lot", "kind", "bucket", "quantity_change", "balance_after", "reason", "reference",
                          "actor", "created_at"), DrugLot)
