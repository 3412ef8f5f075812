"""Peewee migrations -- 003_claims.py.

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
from decimal import ROUND_HALF_EVEN

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""
    
    @migrator.create_model
    class ClaimBatch(pw.Model):
        id = pw.AutoField()
        period = pw.CharField(index=True, max_length=7)
        sequence = pw.IntegerField(default=1)
        facility_code = pw.CharField(max_length=5)
        visit_count = pw.IntegerField(default=0)
        line_count = pw.IntegerField(default=0)
        hospital_amount = pw.BigIntegerField(default=0)
        insured_amount = pw.BigIntegerField(default=0)
        insurer_amount = pw.BigIntegerField(default=0)
        copay_amount = pw.BigIntegerField(default=0)
        patient_outside_amount = pw.BigIntegerField(default=0)
        other_funding_amount = pw.BigIntegerField(default=0)
        created_by = pw.CharField(max_length=100)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "claim_batch"
            indexes = [(('period', 'sequence'), True)]

    @migrator.create_model
    class Claim(pw.Model):
        id = pw.AutoField()
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=migrator.orm['claim_batch'], on_delete='RESTRICT')
        encounter_id = pw.CharField(max_length=100, unique=True)
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'], on_delete='RESTRICT')
        stt = pw.IntegerField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "claim"
            indexes = [(('batch', 'stt'), True)]

    @migrator.create_model
    class ClaimLine(pw.Model):
        id = pw.AutoField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'], on_delete='RESTRICT')
        invoice_line = pw.ForeignKeyField(column_name='invoice_line_id', field='id', model=migrator.orm['invoice_line'], on_delete='RESTRICT', unique=True)
        ma_lk = pw.CharField(max_length=100)
        xml_table = pw.CharField(max_length=4)
        line_no = pw.IntegerField()
        code = pw.CharField(max_length=50)
        quantity = pw.IntegerField()
        unit_price_amount = pw.BigIntegerField()
        insurance_unit_price_amount = pw.BigIntegerField()
        insurance_scope = pw.IntegerField()
        insurance_rate = pw.IntegerField()
        benefit_level = pw.DecimalField(auto_round=False, decimal_places=2, max_digits=6, rounding=ROUND_HALF_EVEN)
        hospital_amount = pw.BigIntegerField()
        insured_amount = pw.BigIntegerField()
        insurer_amount = pw.BigIntegerField()
        copay_amount = pw.BigIntegerField()
        patient_outside_amount = pw.BigIntegerField()
        other_funding_amount = pw.BigIntegerField()

        class Meta:
            table_name = "claim_line"
            indexes = [(('ma_lk', 'xml_table', 'line_no'), True)]

    @migrator.create_model
    class ReconciliationRun(pw.Model):
        id = pw.AutoField()
        period = pw.CharField(max_length=7)
        state = pw.CharField(default='queued', max_length=10)
        progress = pw.IntegerField(default=0)
        step = pw.CharField(default='', max_length=60)
        result_json = pw.TextField(null=True)
        error = pw.CharField(max_length=500, null=True)
        requested_by = pw.CharField(max_length=100)
        created_at = pw.DateTimeField()
        started_at = pw.DateTimeField(null=True)
        finished_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "reconciliation_run"

    @migrator.create_model
    class RemittanceImport(pw.Model):
        id = pw.AutoField()
        file_sha256 = pw.CharField(max_length=64, unique=True)
        file_format = pw.CharField(max_length=8)
        row_count = pw.IntegerField()
        accepted_count = pw.IntegerField()
        duplicate_count = pw.IntegerField()
        rejected_count = pw.IntegerField()
        rejected_rows = pw.TextField(default='[]')
        approved_amount = pw.BigIntegerField(default=0)
        paid_amount = pw.BigIntegerField(default=0)
        created_by = pw.CharField(max_length=100)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "remittance_import"

    @migrator.create_model
    class RemittanceLine(pw.Model):
        id = pw.AutoField()
        remittance = pw.ForeignKeyField(column_name='remittance_id', field='id', model=migrator.orm['remittance_import'], on_delete='RESTRICT')
        claim_line = pw.ForeignKeyField(column_name='claim_line_id', field='id', model=migrator.orm['claim_line'], on_delete='RESTRICT')
        source_line = pw.IntegerField()
        approved_amount = pw.BigIntegerField()
        rejection_reason = pw.CharField(default='', max_length=500)
        paid_amount = pw.BigIntegerField(default=0)
        payment_reference = pw.CharField(default='', max_length=100)
        paid_on = pw.DateField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "remittance_line"
            indexes = [(('claim_line', 'payment_reference'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('remittance_line')

    migrator.remove_model('remittance_import')

    migrator.remove_model('reconciliation_run')

    migrator.remove_model('claim_line')

    migrator.remove_model('claim')

    migrator.remove_model('claim_batch')
