"""Peewee migrations -- 005_patient_search_name.py.

The folded name patients are found by (gateway.patients.search.fold): added, indexed, filled for existing rows.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def _fill_search_names(database: pw.Database) -> None:
    from gateway.patients.search import fold

    patient = pw.Table("patient", ("id", "full_name", "search_name")).bind(database)
    for row in list(patient.select(patient.id, patient.full_name).where(patient.search_name == "")):
        patient.update(search_name=fold(row["full_name"])).where(patient.id == row["id"]).execute()


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    migrator.add_fields(
        'patient',

        search_name=pw.CharField(default='', index=True, max_length=200))

    migrator.run(_fill_search_names, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_fields('patient', 'search_name')
