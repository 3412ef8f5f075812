"""Peewee migrations -- 003_claims_practitioners_and_check_ins.py.

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
    class Practitioner(pw.Model):
        id = pw.AutoField()
        full_name = pw.CharField(max_length=200)
        licence_number = pw.CharField(max_length=50, unique=True)
        profession = pw.CharField(default='doctor', max_length=20)
        department = pw.CharField(max_length=100)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "practitioner"

    migrator.add_fields(
        'encounter',

        practitioner=pw.ForeignKeyField(column_name='practitioner_id', field='id', model=migrator.orm['practitioner'], null=True, on_delete='RESTRICT'))

    @migrator.create_model
    class CheckIn(pw.Model):
        id = pw.AutoField()
        encounter = pw.ForeignKeyField(column_name='encounter_id', field='id', model=migrator.orm['encounter'], on_delete='RESTRICT', unique=True)
        payload = pw.TextField()
        state = pw.CharField(default='pending', index=True, max_length=10)
        attempts = pw.IntegerField(default=0)
        next_attempt_at = pw.DateTimeField()
        last_error = pw.CharField(max_length=500, null=True)
        portal_reference = pw.CharField(max_length=100, null=True)
        created_at = pw.DateTimeField()
        sent_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "check_in"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_fields('encounter', 'practitioner')

    migrator.remove_model('check_in')

    migrator.remove_model('practitioner')
