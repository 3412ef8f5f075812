"""Peewee migrations -- 001_initial.py.

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
    class IdempotencyRecord(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=200)
        scope = pw.CharField(max_length=300)
        fingerprint = pw.CharField(max_length=64)
        status_code = pw.IntegerField(null=True)
        content_type = pw.CharField(max_length=100, null=True)
        body = pw.TextField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "idempotency_record"
            indexes = [(('scope', 'key'), True)]

    @migrator.create_model
    class OutboxMessage(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=200, unique=True)
        event_type = pw.CharField(max_length=64)
        destination = pw.CharField(max_length=32)
        path = pw.CharField(max_length=200)
        payload = pw.TextField()
        state = pw.CharField(default='pending', index=True, max_length=16)
        attempts = pw.IntegerField(default=0)
        next_attempt_at = pw.DateTimeField(index=True)
        last_error = pw.TextField(null=True)
        created_at = pw.DateTimeField()
        delivered_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "outbox_message"

    @migrator.create_model
    class Reagent(pw.Model):
        id = pw.AutoField()
        code = pw.CharField(max_length=40, unique=True)
        name = pw.CharField(max_length=200)
        manufacturer = pw.CharField(max_length=200)
        base_unit = pw.CharField(max_length=20)
        reorder_level = pw.IntegerField(default=0)
        unit_cost_amount = pw.BigIntegerField(default=0)
        requires_qc_release = pw.BooleanField(default=False)
        stability_days_after_opening = pw.IntegerField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "reagent"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('reagent')

    migrator.remove_model('outbox_message')

    migrator.remove_model('idempotency_record')
