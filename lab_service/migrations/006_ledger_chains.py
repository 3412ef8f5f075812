"""Peewee migrations -- 006_ledger_chains.py.

Issue 16: the consumption ledger is hash-chained per reagent lot (common.chain); the rows already there are
chained here, in id order, and each lot records its chain's head. Breaks found by the periodic check are kept in
integrity_alert.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

from common.chain import chain_existing_rows

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def _chain_existing(database):
    from lab_service.models import LEDGER_CHAIN

    chain_existing_rows(LEDGER_CHAIN, database)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    migrator.add_fields(
        'reagent_lot',

        chain_head=pw.CharField(max_length=64, null=True))

    migrator.add_fields(
        'ledger_entry',

        prev_hash=pw.CharField(max_length=64, null=True),
        row_hash=pw.CharField(max_length=64, null=True))

    @migrator.create_model
    class IntegrityAlert(pw.Model):
        id = pw.AutoField()
        chain = pw.CharField(max_length=60)
        stream = pw.CharField(max_length=100)
        row_id = pw.CharField(max_length=40, null=True)
        differs = pw.CharField(max_length=20)
        detail = pw.TextField()
        open_key = pw.CharField(max_length=170, null=True, unique=True)
        state = pw.CharField(default='open', index=True, max_length=10)
        opened_at = pw.DateTimeField()
        closed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "integrity_alert"

    migrator.run(_chain_existing, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""

    migrator.remove_model('integrity_alert')

    migrator.remove_fields('ledger_entry', 'prev_hash', 'row_hash')

    migrator.remove_fields('reagent_lot', 'chain_head')
