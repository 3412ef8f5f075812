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


def create_app():
    """Build the baseline app on BASELINE_DATABASE_NAME (PostgreSQL on 127.0.0.1)."""
    db.initialize(PooledPostgresqlDatabase(os.environ["BASELINE_DATABASE_NAME"], user="postgres",
                                           host="127.0.0.1", port=5432, max_connections=32))
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
            stock = Stock.select().where(Stock.id == 1).for_update().get()
            updated = Stock.update(quantity=Stock.quantity - 1).where(
                (Stock.id == stock.id) & (Stock.quantity >= 1)).execute()
            if not updated:
                return jsonify({"error": "out of stock"}), 409
            row = LedgerRow.create(stock=stock.id, quantity=-1, created_at=datetime.now(UTC))
        return jsonify({"ledger_id": row.id, "stock_id": stock.id}), 201

    return app


def prepare(database_name: str) -> None:
    """Create the baseline tables and one stock row with plenty of units."""
    database = peewee.PostgresqlDatabase(database_name, user="postgres", host="127.0.0.1", port=5432)
    db.initialize(database)
    with database:
        database.create_tables([Stock, LedgerRow])
        Stock.create(quantity=10**12)
