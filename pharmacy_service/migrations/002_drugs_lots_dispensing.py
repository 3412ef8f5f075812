"""Peewee migrations -- 002_drugs_lots_dispensing.py.

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
    class Drug(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=40, unique=True)
        name = pw.CharField(max_length=200)
        active_ingredient = pw.CharField(max_length=200)
        strength = pw.CharField(max_length=100)
        dosage_form = pw.CharField(max_length=100)
        route = pw.CharField(max_length=50)
        atc_code = pw.CharField(index=True, max_length=10)
        registration_number = pw.CharField(max_length=40)
        base_unit = pw.CharField(max_length=20)
        gtin = pw.CharField(max_length=14, null=True, unique=True)
        price_amount = pw.BigIntegerField()
        insurance_scope = pw.SmallIntegerField(default=1)
        insurance_rate = pw.IntegerField(default=100)
        reorder_level = pw.IntegerField(default=0)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "drug"

    @migrator.create_model
    class DrugLot(pw.Model):
        id = pw.AutoField()
        drug = pw.ForeignKeyField(column_name='drug_id', field='id', model=migrator.orm['drug'], on_delete='RESTRICT')
        lot_number = pw.CharField(max_length=20)
        expires_on = pw.DateField(index=True)
        supplier = pw.CharField(max_length=200)
        unit_cost_amount = pw.BigIntegerField()
        quantity_received = pw.IntegerField(default=0)
        quantity_on_hand = pw.IntegerField(default=0)
        quantity_quarantined = pw.IntegerField(default=0)
        status = pw.CharField(default='available', max_length=16)
        status_reason = pw.TextField(null=True)
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "drug_lot"
            indexes = [(('drug', 'lot_number'), True)]

    @migrator.create_model
    class Alert(pw.Model):
        id = pw.AutoField()
        kind = pw.CharField(max_length=20)
        drug = pw.ForeignKeyField(column_name='drug_id', field='id', model=migrator.orm['drug'], on_delete='RESTRICT')
        lot = pw.ForeignKeyField(column_name='lot_id', field='id', model=migrator.orm['drug_lot'], null=True, on_delete='RESTRICT')
        message = pw.TextField()
        details = pw.TextField(default='{}')
        status = pw.CharField(default='open', index=True, max_length=10)
        open_key = pw.CharField(max_length=120, null=True, unique=True)
        created_at = pw.DateTimeField()
        resolved_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "pharmacy_alert"

    @migrator.create_model
    class Prescription(pw.Model):
        id = pw.AutoField()
        encounter_id = pw.CharField(index=True, max_length=100)
        patient_id = pw.CharField(index=True, max_length=100)
        prescriber = pw.CharField(max_length=200)
        created_by = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "prescription"

    @migrator.create_model
    class Dispense(pw.Model):
        id = pw.AutoField()
        prescription = pw.ForeignKeyField(column_name='prescription_id', field='id', model=migrator.orm['prescription'], on_delete='RESTRICT')
        encounter_id = pw.CharField(index=True, max_length=100)
        patient_id = pw.CharField(index=True, max_length=100)
        dispensed_by = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "dispense"

    @migrator.create_model
    class PrescriptionLine(pw.Model):
        id = pw.AutoField()
        prescription = pw.ForeignKeyField(column_name='prescription_id', field='id', model=migrator.orm['prescription'], on_delete='CASCADE')
        drug = pw.ForeignKeyField(column_name='drug_id', field='id', model=migrator.orm['drug'], on_delete='RESTRICT')
        quantity = pw.IntegerField()
        quantity_dispensed = pw.IntegerField(default=0)
        instructions = pw.TextField(default='')

        class Meta:
            table_name = "prescription_line"

    @migrator.create_model
    class DispenseLine(pw.Model):
        id = pw.AutoField()
        dispense = pw.ForeignKeyField(column_name='dispense_id', field='id', model=migrator.orm['dispense'], on_delete='RESTRICT')
        prescription_line = pw.ForeignKeyField(column_name='prescription_line_id', field='id', model=migrator.orm['prescription_line'], on_delete='RESTRICT')
        drug = pw.ForeignKeyField(column_name='drug_id', field='id', model=migrator.orm['drug'], on_delete='RESTRICT')
        quantity = pw.IntegerField()
        quantity_returned = pw.IntegerField(default=0)
        unit_price_amount = pw.BigIntegerField()
        amount = pw.BigIntegerField()
        cost_amount = pw.BigIntegerField()

        class Meta:
            table_name = "dispense_line"

    @migrator.create_model
    class DispenseLotPick(pw.Model):
        id = pw.AutoField()
        dispense_line = pw.ForeignKeyField(column_name='dispense_line_id', field='id', model=migrator.orm['dispense_line'], on_delete='RESTRICT')
        lot = pw.ForeignKeyField(column_name='lot_id', field='id', model=migrator.orm['drug_lot'], on_delete='RESTRICT')
        quantity = pw.IntegerField()
        quantity_returned = pw.IntegerField(default=0)
        unit_cost_amount = pw.BigIntegerField()

        class Meta:
            table_name = "dispense_lot_pick"

    @migrator.create_model
    class DrugReturn(pw.Model):
        id = pw.AutoField()
        dispense = pw.ForeignKeyField(column_name='dispense_id', field='id', model=migrator.orm['dispense'], on_delete='RESTRICT')
        reason = pw.TextField()
        returned_by = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "drug_return"

    @migrator.create_model
    class Recall(pw.Model):
        id = pw.AutoField()
        lot = pw.ForeignKeyField(column_name='lot_id', field='id', model=migrator.orm['drug_lot'], on_delete='RESTRICT', unique=True)
        reason = pw.TextField()
        recalled_by = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "recall"

    @migrator.create_model
    class ReturnLine(pw.Model):
        id = pw.AutoField()
        drug_return = pw.ForeignKeyField(column_name='drug_return_id', field='id', model=migrator.orm['drug_return'], on_delete='RESTRICT')
        dispense_line = pw.ForeignKeyField(column_name='dispense_line_id', field='id', model=migrator.orm['dispense_line'], on_delete='RESTRICT')
        quantity = pw.IntegerField()
        amount = pw.BigIntegerField()

        class Meta:
            table_name = "return_line"

    @migrator.create_model
    class StockEntry(pw.Model):
        id = pw.AutoField()
        drug = pw.ForeignKeyField(column_name='drug_id', field='id', model=migrator.orm['drug'], on_delete='RESTRICT')
        lot = pw.ForeignKeyField(column_name='lot_id', field='id', model=migrator.orm['drug_lot'], on_delete='RESTRICT')
        kind = pw.CharField(max_length=20)
        bucket = pw.CharField(default='shelf', max_length=12)
        quantity_change = pw.IntegerField()
        balance_after = pw.IntegerField()
        reason = pw.TextField(null=True)
        reference = pw.CharField(max_length=100, null=True)
        actor = pw.CharField(max_length=64)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "stock_entry"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('stock_entry')

    migrator.remove_model('return_line')

    migrator.remove_model('recall')

    migrator.remove_model('drug_return')

    migrator.remove_model('dispense_lot_pick')

    migrator.remove_model('dispense_line')

    migrator.remove_model('prescription_line')

    migrator.remove_model('dispense')

    migrator.remove_model('prescription')

    migrator.remove_model('pharmacy_alert')

    migrator.remove_model('drug_lot')

    migrator.remove_model('drug')
