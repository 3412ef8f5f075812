"""Peewee migrations -- 007_claims_price_list_and_overrides.py.

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
    class ClaimBatchOverride(pw.Model):
        id = pw.AutoField()
        batch = pw.ForeignKeyField(column_name='batch_id', field='id', model=migrator.orm['claim_batch'], on_delete='RESTRICT')
        reason = pw.CharField(max_length=1000)
        critical_count = pw.IntegerField()
        fingerprint = pw.CharField(max_length=64)
        findings_json = pw.TextField()
        created_by = pw.CharField(max_length=100)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "claim_batch_override"

    @migrator.create_model
    class InsurancePrice(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(index=True, max_length=50)
        item_kind = pw.CharField(max_length=10)
        name = pw.CharField(max_length=300)
        unit_name = pw.CharField(max_length=30)
        price_amount = pw.BigIntegerField()
        valid_from = pw.DateField()
        valid_to = pw.DateField(null=True)
        decision = pw.CharField(default='', max_length=200)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "insurance_price"
            indexes = [(('code', 'valid_from'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('insurance_price')

    migrator.remove_model('claim_batch_override')
