"""Peewee migrations -- 006_claims_other_funding_and_practitioners.py.

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
    
    migrator.add_fields(
        'invoice_line',

        state_budget_funding_amount=pw.BigIntegerField(default=0),
        foreign_aid_funding_amount=pw.BigIntegerField(default=0),
        domestic_aid_funding_amount=pw.BigIntegerField(default=0),
        other_source_funding_amount=pw.BigIntegerField(default=0),
        ordered_by_code=pw.CharField(max_length=50, null=True),
        ordered_by_name=pw.CharField(max_length=200, null=True),
        performed_by_code=pw.CharField(max_length=50, null=True),
        performed_by_name=pw.CharField(max_length=200, null=True))

    migrator.add_fields(
        'claim_line',

        state_budget_funding_amount=pw.BigIntegerField(default=0),
        foreign_aid_funding_amount=pw.BigIntegerField(default=0),
        domestic_aid_funding_amount=pw.BigIntegerField(default=0),
        other_source_funding_amount=pw.BigIntegerField(default=0))

    migrator.add_fields(
        'encounter_snapshot',

        practitioner_json=pw.TextField(null=True))

    @migrator.create_model
    class OtherFunding(pw.Model):
        id = pw.AutoField()
        invoice = pw.ForeignKeyField(column_name='invoice_id', field='id', model=migrator.orm['invoice'], on_delete='RESTRICT')
        line = pw.ForeignKeyField(column_name='line_id', field='id', model=migrator.orm['invoice_line'], null=True, on_delete='RESTRICT')
        source = pw.CharField(max_length=20)
        target = pw.CharField(max_length=10)
        amount = pw.BigIntegerField()
        applied_amount = pw.BigIntegerField(default=0)
        reference = pw.CharField(default='', max_length=200)
        note = pw.CharField(default='', max_length=500)
        state = pw.CharField(default='active', index=True, max_length=10)
        created_by = pw.CharField(max_length=100)
        created_at = pw.DateTimeField()
        withdrawn_by = pw.CharField(max_length=100, null=True)
        withdrawn_at = pw.DateTimeField(null=True)
        withdrawal_reason = pw.CharField(max_length=500, null=True)

        class Meta:
            table_name = "other_funding"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_fields('encounter_snapshot', 'practitioner_json')

    migrator.remove_fields('claim_line', 'state_budget_funding_amount', 'foreign_aid_funding_amount', 'domestic_aid_funding_amount', 'other_source_funding_amount')

    migrator.remove_fields('invoice_line', 'state_budget_funding_amount', 'foreign_aid_funding_amount', 'domestic_aid_funding_amount', 'other_source_funding_amount', 'ordered_by_code', 'ordered_by_name', 'performed_by_code', 'performed_by_name')

    migrator.remove_model('other_funding')
