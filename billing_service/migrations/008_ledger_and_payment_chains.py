"""Peewee migrations -- 008_ledger_and_payment_chains.py.

Issue 16: a bill's ledger and its payments are hash-chained per bill, and a recall's money is recorded
(recall_adjustment, claim lines withdrawn, a batch's first download) (common.chain); the rows already there are
chained here, in id order, and the bill records both heads. Breaks found by the periodic check are kept in
integrity_alert.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

from common.chain import chain_existing_rows

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def _chain_existing(database):
    from billing_service.models import LEDGER_CHAIN, PAYMENT_CHAIN

    chain_existing_rows(LEDGER_CHAIN, database)
    chain_existing_rows(PAYMENT_CHAIN, database)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    migrator.add_fields(
        'invoice',

        ledger_head=pw.CharField(max_length=64, null=True),
        payments_head=pw.CharField(max_length=64, null=True))

    migrator.add_fields(
        'billing_ledger_entry',

        prev_hash=pw.CharField(max_length=64, null=True),
        row_hash=pw.CharField(max_length=64, null=True))

    migrator.add_fields(
        'payment',

        prev_hash=pw.CharField(max_length=64, null=True),
        row_hash=pw.CharField(max_length=64, null=True))

    @migrator.create_model
    class IntegrityAlert(pw.Model):
        id = pw.AutoField()
        chain = pw.CharField(max_length=60)
        stream = pw.CharField(max_length=100)
        row_id = pw.CharField(max_length=40, null=True)
        differs = pw.CharField(max_length=20)
        detail = pw.TextField()
        open_key = pw.CharField(max_length=170, null=True, unique=True)
        state = pw.CharField(default='open', index=True, max_length=10)
        opened_at = pw.DateTimeField()
        closed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "integrity_alert"

    migrator.run(_chain_existing, database)

    # A recall puts the money right (billing_service/services/recall_money.py).
    migrator.add_fields(
        'claim_batch',

        exported_at=pw.DateTimeField(null=True))

    migrator.add_fields(
        'claim_line',

        withdrawn_at=pw.DateTimeField(null=True),
        withdrawn_reason=pw.CharField(max_length=500, null=True))

    @migrator.create_model
    class RecallAdjustment(pw.Model):
        id = pw.AutoField()
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'],
                                     on_delete='RESTRICT')
        line = pw.ForeignKeyField(column_name='line_id', field='id', model=migrator.orm['invoice_line'],
                                  on_delete='RESTRICT')
        reversal_key = pw.CharField(max_length=200, unique=True)
        recall_id = pw.CharField(index=True, max_length=100)
        outcome = pw.CharField(max_length=12)
        credit_note_number = pw.CharField(max_length=20, null=True)
        hospital_amount = pw.BigIntegerField()
        insurer_amount = pw.BigIntegerField()
        patient_amount = pw.BigIntegerField()
        refund_due_amount = pw.BigIntegerField(default=0)
        claim_action = pw.CharField(default='none', max_length=10)
        claim_line_id = pw.IntegerField(null=True)
        insurer_correction_amount = pw.BigIntegerField(default=0)
        reason = pw.CharField(max_length=500)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "recall_adjustment"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('recall_adjustment')

    migrator.remove_fields('claim_line', 'withdrawn_at', 'withdrawn_reason')

    migrator.remove_fields('claim_batch', 'exported_at')

    migrator.remove_model('integrity_alert')

    migrator.remove_fields('payment', 'prev_hash', 'row_hash')

    migrator.remove_fields('billing_ledger_entry', 'prev_hash', 'row_hash')

    migrator.remove_fields('invoice', 'ledger_head', 'payments_head')
