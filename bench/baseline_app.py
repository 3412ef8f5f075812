"""The one-hop baseline: a minimal Flask + peewee endpoint doing a comparable stock transaction on PostgreSQL.

POST /consume: select the stock row for update, guarded decrement, insert a ledger row, return JSON. No auth,
no gateway, no schema layer: what a bare transaction costs on this machine.
"""

import os
from datetime import UTC, datetime

import peewee
from flask import Flask, jsonify
from playhouse.pool import PooledPostgresqlDatabase

db = peewee.DatabaseProxy()


class Stock(peewee.Model):
    quantity = peewee.BigIntegerField()

    class Meta:
        database = db
        table_name = "baseline_stock"


class LedgerRow(peewee.Model):
    stock = peewee.ForeignKeyField(Stock)
    quantity = peewee.IntegerField()
    created_at = peewee.DateTimeField()

    class Meta:
        database = db
        table_name = "baseline_ledger"


def _database(name: str, pooled: bool) -> peewee.Database:
    """PostgreSQL database `name` on 127.0.0.1, or a SQLite file when `name` is a path (the embedded engine, with
    the settings the services use)."""
    if name.startswith("/"):
        return peewee.SqliteDatabase(name, pragmas={"journal_mode": "wal", "busy_timeout": 15000,
                                                    "synchronous": "normal"}, lock_type="IMMEDIATE",
                                     check_same_thread=False)
    if pooled:
        return PooledPostgresqlDatabase(name, user="postgres", host="127.0.0.1", port=5432, max_connections=32)
    return peewee.PostgresqlDatabase(name, user="postgres", host="127.0.0.1", port=5432)


def create_app():
    """Build the baseline app on BASELINE_DATABASE_NAME (a PostgreSQL database on 127.0.0.1, or a SQLite path)."""
    db.initialize(_database(os.environ["BASELINE_DATABASE_NAME"], pooled=True))
    app = Flask("baseline")

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc):
        if not db.is_closed():
            db.close()

    @app.post("/consume")
    def consume():
        with db.atomic():
            stock = Stock.select().where(Stock.id == 1).for_update(db.obj.for_update).get()
            updated = Stock.update(quantity=Stock.quantity - 1).where(
                (Stock.id == stock.id) & (Stock.quantity >= 1)).execute()
            if not updated:
                return jsonify({"error": "out of stock"}), 409
            row = LedgerRow.create(stock=stock.id, quantity=-1, created_at=datetime.now(UTC))
        return jsonify({"ledger_id": row.id, "stock_id": stock.id}), 201

    return app


def prepare(database_name: str) -> None:
    """Create the baseline tables and one stock row with plenty of units."""
    database = _database(database_name, pooled=False)
    db.initialize(database)
    with database:
        database.create_tables([Stock, LedgerRow])
        Stock.create(quantity=10**12)
