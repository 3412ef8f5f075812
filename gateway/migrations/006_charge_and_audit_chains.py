"""Peewee migrations -- 006_charge_and_audit_chains.py.

Issue 16: charges are hash-chained per source and the audit log as one chain (common.chain); the rows
already there are chained here, in id order, and chain_head records each chain's head. Audit lines may carry
details (what a read covered). Breaks found by the periodic check are kept in
integrity_alert.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

from common.chain import chain_existing_rows

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def _chain_existing(database):
    from gateway.models import AUDIT_CHAIN, CHARGE_CHAIN

    database.execute_sql("UPDATE audit_entry SET chain_seq = id")
    chain_existing_rows(CHARGE_CHAIN, database)
    chain_existing_rows(AUDIT_CHAIN, database)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""

    migrator.add_fields(
        'audit_entry',

        details=pw.TextField(null=True),
        chain_seq=pw.BigIntegerField(null=True, unique=True),
        prev_hash=pw.CharField(max_length=64, null=True),
        row_hash=pw.CharField(max_length=64, null=True))

    migrator.add_fields(
        'charge',

        prev_hash=pw.CharField(max_length=64, null=True),
        row_hash=pw.CharField(max_length=64, null=True))

    @migrator.create_model
    class ChainHead(pw.Model):
        id = pw.AutoField()
        chain = pw.CharField(max_length=60)
        stream = pw.CharField(max_length=100)
        head = pw.CharField(max_length=64, null=True)
        length = pw.BigIntegerField(default=0)

        class Meta:
            table_name = "chain_head"
            indexes = [(('chain', 'stream'), True)]

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

    migrator.remove_model('chain_head')

    migrator.remove_fields('charge', 'prev_hash', 'row_hash')

    migrator.remove_fields('audit_entry', 'details', 'chain_seq', 'prev_hash', 'row_hash')
