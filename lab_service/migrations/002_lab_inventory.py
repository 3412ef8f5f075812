"""Peewee migrations -- 002_lab_inventory.py.

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

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""
    
    @migrator.create_model
    class Analyzer(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=40, unique=True)
        name = pw.CharField(max_length=200)
        manufacturer = pw.CharField(default='', max_length=200)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "analyzer"

    @migrator.create_model
    class LabTest(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=40, unique=True)
        name = pw.CharField(max_length=200)
        loinc = pw.CharField(max_length=20)
        service_code = pw.CharField(max_length=50)
        price_amount = pw.BigIntegerField()
        insurance_price_amount = pw.BigIntegerField(default=0)
        insurance_covered = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "lab_test"

    @migrator.create_model
    class DailyOverheadMark(pw.Model):
        id = pw.AutoField()
        lab_test = pw.ForeignKeyField(column_name='lab_test_id', field='id', model=migrator.orm['lab_test'], on_delete='CASCADE')
        analyzer_code = pw.CharField(default='', max_length=40)
        day = pw.DateField()

        class Meta:
            table_name = "daily_overhead_mark"
            indexes = [(('lab_test', 'analyzer_code', 'day'), True)]

    @migrator.create_model
    class ReagentLot(pw.Model):
        id = pw.AutoField()
        reagent = pw.ForeignKeyField(column_name='reagent_id', field='id', model=migrator.orm['reagent'], on_delete='RESTRICT')
        lot_number = pw.CharField(max_length=60)
        supplier = pw.CharField(default='', max_length=200)
        expires_on = pw.DateField()
        received_quantity = pw.BigIntegerField()
        on_hand = pw.BigIntegerField()
        cost_amount = pw.BigIntegerField()
        state = pw.CharField(default='released', max_length=16)
        opened_at = pw.DateTimeField(null=True)
        released_at = pw.DateTimeField(null=True)
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "reagent_lot"
            indexes = [(('reagent', 'lot_number'), True), (('reagent', 'expires_on'), False)]
            constraints = [pw.SQL("CHECK (on_hand >= 0)")]

    @migrator.create_model
    class LabAlert(pw.Model):
        id = pw.AutoField()
        kind = pw.CharField(max_length=32)
        reagent = pw.ForeignKeyField(column_name='reagent_id', field='id', model=migrator.orm['reagent'], on_delete='RESTRICT')
        lot = pw.ForeignKeyField(column_name='lot_id', field='id', model=migrator.orm['reagent_lot'], null=True, on_delete='RESTRICT')
        open_key = pw.CharField(max_length=120, null=True, unique=True)
        message = pw.TextField()
        details = pw.TextField(default='{}')
        state = pw.CharField(default='open', index=True, max_length=16)
        opened_at = pw.DateTimeField()
        closed_at = pw.DateTimeField(null=True)
        notified_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "lab_alert"

    @migrator.create_model
    class TestRun(pw.Model):
        id = pw.AutoField()
        kind = pw.CharField(default='patient', max_length=16)
        lab_test = pw.ForeignKeyField(column_name='lab_test_id', field='id', model=migrator.orm['lab_test'], on_delete='RESTRICT')
        analyzer = pw.ForeignKeyField(column_name='analyzer_id', field='id', model=migrator.orm['analyzer'], null=True, on_delete='RESTRICT')
        encounter_id = pw.CharField(index=True, max_length=100, null=True)
        patient_id = pw.CharField(max_length=100, null=True)
        is_rerun = pw.BooleanField(default=False)
        billed = pw.BooleanField(default=False)
        price_amount = pw.BigIntegerField(default=0)
        cost_amount = pw.BigIntegerField(default=0)
        results = pw.TextField(default='[]')
        status = pw.CharField(default='done', max_length=16)
        logged_by = pw.CharField(max_length=64)
        created_at = pw.DateTimeField(index=True)
        voided_at = pw.DateTimeField(null=True)
        voided_by = pw.CharField(max_length=64, null=True)
        void_reason = pw.TextField(null=True)

        class Meta:
            table_name = "test_run"

    @migrator.create_model
    class LedgerEntry(pw.Model):
        id = pw.AutoField()
        reagent = pw.ForeignKeyField(column_name='reagent_id', field='id', model=migrator.orm['reagent'], on_delete='RESTRICT')
        lot = pw.ForeignKeyField(column_name='lot_id', field='id', model=migrator.orm['reagent_lot'], on_delete='RESTRICT')
        kind = pw.CharField(max_length=20)
        quantity = pw.BigIntegerField()
        cost_amount = pw.BigIntegerField(default=0)
        test_run = pw.ForeignKeyField(column_name='test_run_id', field='id', model=migrator.orm['test_run'], null=True, on_delete='RESTRICT')
        basis = pw.CharField(max_length=16, null=True)
        reason = pw.TextField(null=True)
        recorded_by = pw.CharField(max_length=64)
        created_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "ledger_entry"

    @migrator.create_model
    class RecipeLine(pw.Model):
        id = pw.AutoField()
        lab_test = pw.ForeignKeyField(column_name='lab_test_id', field='id', model=migrator.orm['lab_test'], on_delete='CASCADE')
        analyzer = pw.ForeignKeyField(column_name='analyzer_id', field='id', model=migrator.orm['analyzer'], null=True, on_delete='CASCADE')
        reagent = pw.ForeignKeyField(column_name='reagent_id', field='id', model=migrator.orm['reagent'], on_delete='RESTRICT')
        quantity = pw.BigIntegerField()
        basis = pw.CharField(default='test', max_length=16)

        class Meta:
            table_name = "recipe_line"

    @migrator.create_model
    class WorklistItem(pw.Model):
        id = pw.AutoField()
        lab_test = pw.ForeignKeyField(column_name='lab_test_id', field='id', model=migrator.orm['lab_test'], on_delete='RESTRICT')
        encounter_id = pw.CharField(max_length=100)
        patient_id = pw.CharField(max_length=100)
        state = pw.CharField(default='open', index=True, max_length=16)
        test_run = pw.ForeignKeyField(column_name='test_run_id', field='id', model=migrator.orm['test_run'], null=True, on_delete='SET NULL')
        ordered_at = pw.DateTimeField()

        class Meta:
            table_name = "worklist_item"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('worklist_item')

    migrator.remove_model('recipe_line')

    migrator.remove_model('ledger_entry')

    migrator.remove_model('test_run')

    migrator.remove_model('lab_alert')

    migrator.remove_model('reagent_lot')

    migrator.remove_model('daily_overhead_mark')

    migrator.remove_model('lab_test')

    migrator.remove_model('analyzer')
