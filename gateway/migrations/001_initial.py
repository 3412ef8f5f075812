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
    class AuditEntry(pw.Model):
        id = pw.AutoField()
        occurred_at = pw.DateTimeField(index=True)
        actor = pw.CharField(max_length=64)
        role = pw.CharField(max_length=20)
        action = pw.CharField(max_length=300)
        status_code = pw.IntegerField()
        request_id = pw.CharField(max_length=64)
        patient_id = pw.CharField(index=True, max_length=64, null=True)

        class Meta:
            table_name = "audit_entry"

    @migrator.create_model
    class Charge(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=200, unique=True)
        source = pw.CharField(max_length=20)
        source_id = pw.CharField(max_length=100)
        encounter_ref = pw.CharField(index=True, max_length=100)
        patient_ref = pw.CharField(index=True, max_length=100)
        item_kind = pw.CharField(max_length=20)
        code = pw.CharField(max_length=50)
        name = pw.CharField(max_length=300)
        quantity = pw.IntegerField()
        reversed_quantity = pw.IntegerField(default=0)
        amount = pw.BigIntegerField()
        reversed_amount = pw.BigIntegerField(default=0)
        cost_amount = pw.BigIntegerField(default=0)
        payload = pw.TextField()
        flag = pw.CharField(index=True, max_length=40, null=True)
        occurred_at = pw.DateTimeField()
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "charge"

    @migrator.create_model
    class ChargeReversal(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=200, unique=True)
        charge_key = pw.CharField(index=True, max_length=200)
        quantity = pw.IntegerField()
        amount = pw.BigIntegerField()
        reason = pw.TextField()
        payload = pw.TextField()
        flag = pw.CharField(max_length=40, null=True)
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "charge_reversal"

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
    class User(pw.Model):
        id = pw.AutoField()
        username = pw.CharField(max_length=64, unique=True)
        full_name = pw.CharField(max_length=200)
        role = pw.CharField(max_length=20)
        password_hash = pw.CharField(max_length=255)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "app_user"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('app_user')

    migrator.remove_model('outbox_message')

    migrator.remove_model('idempotency_record')

    migrator.remove_model('charge_reversal')

    migrator.remove_model('charge')

    migrator.remove_model('audit_entry')
