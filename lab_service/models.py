"""Lab tables. Quantities are integers of the reagent's base unit; money is integer đồng."""

import peewee

from common.chain import HASH_LENGTH, Chain
from common.db import ServiceDatabaseProxy
from common.models import UtcDateTimeField, idempotency_model, integrity_alert_model, outbox_model, utcnow

db = ServiceDatabaseProxy()

LOT_STATES = ("quarantined", "released")
ALERT_STATES = ("open", "acknowledged", "closed")  # open and acknowledged hold `open_key`
RUN_KINDS = ("patient", "qc", "calibration")
RECIPE_BASES = ("test", "run", "lot_opened", "day")
ENTRY_KINDS = ("receipt", "consumption", "void_reversal", "count_adjustment", "wastage")


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


class ReagentLot(BaseModel):
    reagent = peewee.ForeignKeyField(Reagent, backref="lots", on_delete="RESTRICT")
    lot_number = peewee.CharField(max_length=60)
    supplier = peewee.CharField(max_length=200, default="")
    expires_on = peewee.DateField()
    received_quantity = peewee.BigIntegerField()
    on_hand = peewee.BigIntegerField()  # book quantity; changed only by guarded updates + a ledger row
    cost_amount = peewee.BigIntegerField()  # what the whole lot cost, đồng
    state = peewee.CharField(max_length=16, default="released")
    opened_at = UtcDateTimeField(null=True)
    released_at = UtcDateTimeField(null=True)
    received_at = UtcDateTimeField(default=utcnow)
    chain_head = peewee.CharField(max_length=HASH_LENGTH, null=True)  # row_hash of the lot's last ledger row

    class Meta:
        table_name = "reagent_lot"
        indexes = ((("reagent", "lot_number"), True), (("reagent", "expires_on"), False))
        constraints = [peewee.SQL("CHECK (on_hand >= 0)")]


class Analyzer(BaseModel):
    code = peewee.CharField(max_length=40, unique=True)
    name = peewee.CharField(max_length=200)
    manufacturer = peewee.CharField(max_length=200, default="")
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "analyzer"


class LabTest(BaseModel):
    code = peewee.CharField(max_length=40, unique=True)
    name = peewee.CharField(max_length=200)
    loinc = peewee.CharField(max_length=20)
    service_code = peewee.CharField(max_length=50)  # BHYT MA_DICH_VU
    price_amount = peewee.BigIntegerField()
    insurance_price_amount = peewee.BigIntegerField(default=0)
    insurance_covered = peewee.BooleanField(default=True)
    unit_name = peewee.CharField(max_length=30, default="Lần")  # DON_VI_TINH as the national service list writes it
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "lab_test"


class RecipeLine(BaseModel):
    """What one test takes of one reagent; `basis` says per test, per run (dead volume), per opened lot or per day."""

    lab_test = peewee.ForeignKeyField(LabTest, backref="recipe_lines", on_delete="CASCADE")
    analyzer = peewee.ForeignKeyField(Analyzer, null=True, on_delete="CASCADE")  # None: the default recipe
    reagent = peewee.ForeignKeyField(Reagent, on_delete="RESTRICT")
    quantity = peewee.BigIntegerField()
    basis = peewee.CharField(max_length=16, default="test")

    class Meta:
        table_name = "recipe_line"


class TestRun(BaseModel):
    __test__ = False  # not a pytest class

    kind = peewee.CharField(max_length=16, default="patient")
    lab_test = peewee.ForeignKeyField(LabTest, on_delete="RESTRICT")
    analyzer = peewee.ForeignKeyField(Analyzer, null=True, on_delete="RESTRICT")
    encounter_id = peewee.CharField(max_length=100, null=True, index=True)
    patient_id = peewee.CharField(max_length=100, null=True)
    is_rerun = peewee.BooleanField(default=False)
    billed = peewee.BooleanField(default=False)
    price_amount = peewee.BigIntegerField(default=0)
    cost_amount = peewee.BigIntegerField(default=0)
    results = peewee.TextField(default="[]")
    status = peewee.CharField(max_length=16, default="done")
    logged_by = peewee.CharField(max_length=64)
    ordered_by_id = peewee.CharField(max_length=100, null=True)  # the gateway's practitioner who ordered it
    performed_by_id = peewee.CharField(max_length=100, null=True)  # ... and who carried it out
    created_at = UtcDateTimeField(default=utcnow, index=True)
    voided_at = UtcDateTimeField(null=True)
    voided_by = peewee.CharField(max_length=64, null=True)
    void_reason = peewee.TextField(null=True)

    class Meta:
        table_name = "test_run"


class LedgerEntry(BaseModel):
    """One append-only movement of one lot: receipt, consumption, reversal, count adjustment or wastage."""

    reagent = peewee.ForeignKeyField(Reagent, backref="ledger", on_delete="RESTRICT")
    lot = peewee.ForeignKeyField(ReagentLot, backref="ledger", on_delete="RESTRICT")
    kind = peewee.CharField(max_length=20)
    quantity = peewee.BigIntegerField()  # signed: + into stock, - out of stock
    cost_amount = peewee.BigIntegerField(default=0)  # signed like quantity
    test_run = peewee.ForeignKeyField(TestRun, null=True, backref="ledger", on_delete="RESTRICT")
    basis = peewee.CharField(max_length=16, null=True)  # for consumption: test, run, lot_opened, day
    reason = peewee.TextField(null=True)
    recorded_by = peewee.CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow, index=True)
    prev_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # the lot's previous row's row_hash
    row_hash = peewee.CharField(max_length=HASH_LENGTH, null=True)  # common.chain: of prev_hash and the content

    class Meta:
        table_name = "ledger_entry"
        indexes = ((("reagent", "created_at"), False),)  # recent use per reagent, for cover-days alerts


class DailyOverheadMark(BaseModel):
    """The once-a-day QC/calibration of a test on an analyzer has been taken for `day` (local date)."""

    lab_test = peewee.ForeignKeyField(LabTest, on_delete="CASCADE")
    analyzer_code = peewee.CharField(max_length=40, default="")
    day = peewee.DateField()

    class Meta:
        table_name = "daily_overhead_mark"
        indexes = ((("lab_test", "analyzer_code", "day"), True),)


class WorklistItem(BaseModel):
    """A test ordered for a patient and not yet run."""

    lab_test = peewee.ForeignKeyField(LabTest, on_delete="RESTRICT")
    encounter_id = peewee.CharField(max_length=100)
    patient_id = peewee.CharField(max_length=100)
    state = peewee.CharField(max_length=16, default="open", index=True)
    test_run = peewee.ForeignKeyField(TestRun, null=True, on_delete="SET NULL")
    ordered_by_id = peewee.CharField(max_length=100, null=True)  # the gateway's practitioner who ordered it
    ordered_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "worklist_item"


class LabAlert(BaseModel):
    """A condition the lab head must act on; `open_key` is set only while open, so one condition opens once."""

    kind = peewee.CharField(max_length=32)
    reagent = peewee.ForeignKeyField(Reagent, on_delete="RESTRICT")
    lot = peewee.ForeignKeyField(ReagentLot, null=True, on_delete="RESTRICT")
    open_key = peewee.CharField(max_length=120, null=True, unique=True)
    message = peewee.TextField()
    details = peewee.TextField(default="{}")
    state = peewee.CharField(max_length=16, default="open", index=True)
    opened_at = UtcDateTimeField(default=utcnow)
    closed_at = UtcDateTimeField(null=True)
    notified_at = UtcDateTimeField(null=True)
    acknowledged_at = UtcDateTimeField(null=True)  # the lab head has seen it; it stays until its condition clears
    acknowledged_by = peewee.CharField(max_length=64, null=True)

    class Meta:
        table_name = "lab_alert"


OutboxMessage = outbox_model(BaseModel)
IntegrityAlert = integrity_alert_model(BaseModel)

# The consumption ledger, one chain per reagent lot; its head is on the lot row every writer of the lot locks.
LEDGER_CHAIN = Chain("lab.reagent_lot_ledger", LedgerEntry, "lot",
                     ("reagent", "lot", "kind", "quantity", "cost_amount", "test_run", "basis", "reason",
                      "recorded_by", "created_at"), ReagentLot)
IdempotencyRecord = idempotency_model(BaseModel)
