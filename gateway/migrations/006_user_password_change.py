"""Peewee migrations -- 006_user_password_change.py.

A user whose password an admin set (a new account, a reset) must choose their own at the next sign-in.
"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext  # noqa: F401


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Add the must-change flag and the time of the last password change to app_user."""
    migrator.add_fields(
        'app_user',

        must_change_password=pw.BooleanField(default=False),
        password_changed_at=pw.DateTimeField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Remove them."""
    migrator.remove_fields('app_user', 'must_change_password', 'password_changed_at')
