"""Peewee migrations -- 002_billing.py.

Some examples (model - class or model name)::

    > Model = migrator.orm['table_name']            # Return model in current state by name
    > Model = migrator.ModelClass                   # Return model in current state by name

    > migrator.sql(sql)                             # Run custom SQL
    > migrator.run(func, *args, **kwargs)           # Run python function with the given args
    > migrator.create_model(Model)                  # Create a model (could be used as decorator)
    > migrator.remove_model(model, cascade=True)    # Remove a model
    > migrator.add_fields(model, **fields)          # Add fields (allow_not_null=True skips default)
    > migrator.change_fields(model, **fields)       # Change fields
    > migrator.remove_fields(model, *field_names, cascade=True)
    > migrator.rename_field(model, old_field_name, new_field_name)
    > migrator.rename_table(model, new_table_name)
    > migrator.add_index(model, *col_names, unique=False)
    > migrator.add_not_null(model, *field_names)
    > migrator.add_default(model, field_name, default)
    > migrator.add_constraint(model, name, sql)
    > migrator.drop_index(model, *col_names)
    > migrator.drop_not_null(model, *field_names)
    > migrator.drop_constraints(model, *constraints)

"""

from contextlib import suppress
from decimal import ROUND_HALF_EVEN, Decimal

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""
    
    @migrator.create_model
    class Invoice(pw.Model):
        id = pw.AutoField()
        encounter_id = pw.CharField(max_length=100, unique=True)
        patient_id = pw.CharField(index=True, max_length=100)
        reference = pw.CharField(max_length=25, null=True, unique=True)
        state = pw.CharField(default='open', index=True, max_length=16)
        benefit_level = pw.DecimalField(auto_round=False, decimal_places=2, default=Decimal('0'), max_digits=6, rounding=ROUND_HALF_EVEN)
        hospital_amount = pw.BigIntegerField(default=0)
        insured_amount = pw.BigIntegerField(default=0)
        insurer_amount = pw.BigIntegerField(default=0)
        copay_amount = pw.BigIntegerField(default=0)
        patient_outside_amount = pw.BigIntegerField(default=0)
        other_funding_amount = pw.BigIntegerField(default=0)
        paid_amount = pw.BigIntegerField(default=0)
        refunded_amount = pw.BigIntegerField(default=0)
        currency = pw.CharField(default='VND', max_length=3)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "invoice"

    @migrator.create_model
    class PaymentRequest(pw.Model):
        id = pw.AutoField()
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'], on_delete='RESTRICT')
        method = pw.CharField(max_length=10)
        amount = pw.BigIntegerField()
        state = pw.CharField(default='pending', index=True, max_length=16)
        reference = pw.CharField(index=True, max_length=25)
        qr_payload = pw.TextField(null=True)
        expires_at = pw.DateTimeField(null=True)
        provider_reference = pw.CharField(max_length=100, null=True, unique=True)
        client_secret = pw.CharField(max_length=200, null=True)
        provider_status = pw.CharField(max_length=40, null=True)
        failure_message = pw.CharField(max_length=500, null=True)
        paid_amount = pw.BigIntegerField(default=0)
        created_by = pw.CharField(max_length=100)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "payment_request"

    @migrator.create_model
    class Payment(pw.Model):
        id = pw.AutoField()
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'], on_delete='RESTRICT')
        payment_request = pw.ForeignKeyField(column_name='payment_request_id', field='id', model=migrator.orm['payment_request'], null=True, on_delete='RESTRICT')
        method = pw.CharField(max_length=16)
        amount = pw.BigIntegerField()
        refunded_amount = pw.BigIntegerField(default=0)
        provider_reference = pw.CharField(max_length=100, null=True)
        reason = pw.CharField(max_length=500, null=True)
        recorded_by = pw.CharField(max_length=100)
        received_at = pw.DateTimeField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "payment"
            indexes = [(('method', 'provider_reference'), True)]

    @migrator.create_model
    class BankTransfer(pw.Model):
        id = pw.AutoField()
        transaction_id = pw.CharField(max_length=100, unique=True)
        account = pw.CharField(max_length=40)
        amount = pw.BigIntegerField()
        memo = pw.CharField(max_length=500)
        occurred_at = pw.DateTimeField()
        state = pw.CharField(index=True, max_length=16)
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'], null=True, on_delete='RESTRICT')
        payment = pw.ForeignKeyField(column_name='payment_id', field='id', model=migrator.orm['payment'], null=True, on_delete='RESTRICT')
        assigned_by = pw.CharField(max_length=100, null=True)
        assignment_reason = pw.CharField(max_length=500, null=True)
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "bank_transfer"

    @migrator.create_model
    class EncounterSnapshot(pw.Model):
        id = pw.AutoField()
        encounter_id = pw.CharField(max_length=100, unique=True)
        patient_id = pw.CharField(index=True, max_length=100)
        kind = pw.CharField(max_length=20)
        department = pw.CharField(max_length=100)
        in_network = pw.BooleanField(default=True)
        network_rate = pw.IntegerField(default=100)
        status = pw.CharField(default='open', index=True, max_length=10)
        opened_at = pw.DateTimeField()
        discharged_at = pw.DateTimeField(null=True)
        diagnosis_main = pw.CharField(max_length=20, null=True)
        diagnosis_other = pw.CharField(max_length=200, null=True)
        patient_json = pw.TextField()
        coverage_json = pw.TextField(null=True)
        received_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "encounter_snapshot"

    @migrator.create_model
    class InvoiceLine(pw.Model):
        id = pw.AutoField()
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'], on_delete='RESTRICT')
        charge_key = pw.CharField(max_length=200, unique=True)
        source = pw.CharField(max_length=20)
        source_id = pw.CharField(max_length=100)
        item_kind = pw.CharField(max_length=10)
        code = pw.CharField(max_length=50)
        name = pw.CharField(max_length=300)
        unit = pw.CharField(max_length=30)
        charged_quantity = pw.IntegerField()
        reversed_quantity = pw.IntegerField(default=0)
        quantity = pw.IntegerField()
        unit_price_amount = pw.BigIntegerField()
        insurance_unit_price_amount = pw.BigIntegerField()
        insurance_covered = pw.BooleanField()
        insurance_rate = pw.IntegerField(default=100)
        self_pay = pw.BooleanField(default=False)
        hospital_amount = pw.BigIntegerField()
        insured_amount = pw.BigIntegerField()
        benefit_level = pw.DecimalField(auto_round=False, decimal_places=2, max_digits=6, rounding=ROUND_HALF_EVEN)
        insurer_amount = pw.BigIntegerField()
        copay_amount = pw.BigIntegerField()
        patient_outside_amount = pw.BigIntegerField()
        other_funding_amount = pw.BigIntegerField(default=0)
        cost_amount = pw.BigIntegerField(default=0)
        occurred_at = pw.DateTimeField()
        details_json = pw.TextField(default='{}')
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "invoice_line"

    @migrator.create_model
    class LedgerEntry(pw.Model):
        id = pw.AutoField()
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'], on_delete='RESTRICT')
        kind = pw.CharField(max_length=16)
        hospital_amount = pw.BigIntegerField(default=0)
        insurer_amount = pw.BigIntegerField(default=0)
        patient_amount = pw.BigIntegerField(default=0)
        cash_amount = pw.BigIntegerField(default=0)
        reference = pw.CharField(max_length=200)
        actor = pw.CharField(max_length=100)
        note = pw.CharField(max_length=500, null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "billing_ledger_entry"

    @migrator.create_model
    class LineReversal(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=200, unique=True)
        charge_key = pw.CharField(index=True, max_length=200)
        line = pw.ForeignKeyField(column_name='line_id', field='id', model=migrator.orm['invoice_line'], null=True, on_delete='RESTRICT')
        quantity = pw.IntegerField()
        amount = pw.BigIntegerField()
        reason = pw.CharField(max_length=500)
        state = pw.CharField(default='pending', index=True, max_length=10)
        occurred_at = pw.DateTimeField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "line_reversal"

    @migrator.create_model
    class Refund(pw.Model):
        id = pw.AutoField()
        payment = pw.ForeignKeyField(column_name='payment_id', field='id', model=migrator.orm['payment'], on_delete='RESTRICT')
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'], on_delete='RESTRICT')
        amount = pw.BigIntegerField()
        reason = pw.CharField(max_length=500)
        method = pw.CharField(max_length=16)
        provider_reference = pw.CharField(max_length=100, null=True)
        state = pw.CharField(default='succeeded', max_length=16)
        created_by = pw.CharField(max_length=100)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "refund"

    @migrator.create_model
    class WebhookEvent(pw.Model):
        id = pw.AutoField()
        provider = pw.CharField(max_length=16)
        event_id = pw.CharField(max_length=100)
        event_type = pw.CharField(max_length=60)
        payload = pw.TextField()
        outcome = pw.CharField(max_length=40)
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "webhook_event"
            indexes = [(('provider', 'event_id'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('webhook_event')

    migrator.remove_model('refund')

    migrator.remove_model('line_reversal')

    migrator.remove_model('billing_ledger_entry')

    migrator.remove_model('invoice_line')

    migrator.remove_model('encounter_snapshot')

    migrator.remove_model('bank_transfer')

    migrator.remove_model('payment')

    migrator.remove_model('payment_request')

    migrator.remove_model('invoice')
