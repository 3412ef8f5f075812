"""Peewee migrations -- 002_patients_coverages_encounters.py.

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
    class Patient(pw.Model):
        id = pw.AutoField()
        full_name = pw.CharField(max_length=200)
        birth_date = pw.DateField()
        sex = pw.CharField(max_length=10)
        cccd = pw.CharField(max_length=12, unique=True)
        phone = pw.CharField(default='', max_length=20)
        address = pw.CharField(default='', max_length=500)
        open_encounter_id = pw.IntegerField(null=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "patient"

    @migrator.create_model
    class Coverage(pw.Model):
        id = pw.AutoField()
        patient = pw.ForeignKeyField(column_name='patient_id', field='id', model=migrator.orm['patient'], on_delete='RESTRICT')
        card_number = pw.CharField(max_length=15)
        insurance_number = pw.CharField(index=True, max_length=10)
        registered_facility = pw.CharField(max_length=5)
        valid_from = pw.DateField()
        valid_to = pw.DateField()
        benefit_level = pw.IntegerField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "coverage"
            indexes = [(('patient', 'card_number', 'valid_from'), True)]

    @migrator.create_model
    class Encounter(pw.Model):
        id = pw.AutoField()
        patient = pw.ForeignKeyField(column_name='patient_id', field='id', model=migrator.orm['patient'], on_delete='RESTRICT')
        kind = pw.CharField(max_length=20)
        department = pw.CharField(max_length=100)
        in_network = pw.BooleanField(default=True)
        network_rate = pw.IntegerField(default=100)
        status = pw.CharField(default='open', index=True, max_length=10)
        opened_at = pw.DateTimeField()
        diagnosis_main = pw.CharField(max_length=20, null=True)
        diagnosis_other = pw.CharField(max_length=200, null=True)
        discharged_at = pw.DateTimeField(null=True)
        closed_at = pw.DateTimeField(null=True)
        version = pw.IntegerField(default=1)

        class Meta:
            table_name = "encounter"

    @migrator.create_model
    class EncounterFlag(pw.Model):
        id = pw.AutoField()
        key = pw.CharField(max_length=200, unique=True)
        encounter_ref = pw.CharField(index=True, max_length=100)
        patient_ref = pw.CharField(index=True, max_length=100)
        kind = pw.CharField(max_length=20)
        source = pw.CharField(max_length=20)
        message = pw.TextField()
        details = pw.TextField(default='{}')
        matched = pw.BooleanField(default=True)
        raised_at = pw.DateTimeField()
        received_at = pw.DateTimeField()

        class Meta:
            table_name = "encounter_flag"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('encounter_flag')

    migrator.remove_model('encounter')

    migrator.remove_model('coverage')

    migrator.remove_model('patient')
