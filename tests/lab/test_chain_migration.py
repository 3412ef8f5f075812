"""Rows written before the ledger had a chain are chained by its migration, and then verify."""

from datetime import date, timedelta

from peewee_migrate import Router

import lab_service
from common import chain
from common.db import open_database
from lab_service.models import LEDGER_CHAIN
from tests.support import create_pg_database, drop_pg_database, on_postgres_run, unique_name


def chain_a_ledger_written_before_chains(url: str) -> dict:
    database = open_database(url)
    try:
        router = Router(database, migrate_dir=str(lab_service.MIGRATIONS_DIR))
        router.run("005_alert_acknowledgement")  # the schema as it was before issue 16
        expires = (date.today() + timedelta(days=300)).isoformat()
        database.execute_sql("INSERT INTO reagent (code, name, manufacturer, base_unit, reorder_level,"
                             " unit_cost_amount, requires_qc_release, created_at) VALUES ('GLU-R1', 'Glucose R1',"
                             " 'Roche', 'uL', 0, 15, false, '2026-11-01 08:00:00')")
        for number in ("GL2603A", "GL2611B"):
            database.execute_sql("INSERT INTO reagent_lot (reagent_id, lot_number, supplier, expires_on,"
                                 " received_quantity, on_hand, cost_amount, state, received_at) SELECT id, "
                                 f"'{number}', 'Việt Đức', '{expires}', 1000, 800, 15000, 'released',"
                                 " '2026-11-01 08:00:00' FROM reagent")
        for quantity, kind in ((1000, "receipt"), (-200, "consumption")):
            database.execute_sql("INSERT INTO ledger_entry (reagent_id, lot_id, kind, quantity, cost_amount,"
                                 " recorded_by, created_at) SELECT reagent_id, id, "
                                 f"'{kind}', {quantity}, 0, 'labtech', '2026-11-02 09:00:00' FROM reagent_lot")
        router.run()  # issue 16's migration chains what is there
        with database.bind_ctx([LEDGER_CHAIN.model, LEDGER_CHAIN.head_model], bind_refs=False, bind_backrefs=False):
            return chain.verify([LEDGER_CHAIN])
    finally:
        database.close()


def test_the_migration_chains_existing_rows_on_sqlite(tmp_path):
    report = chain_a_ledger_written_before_chains(f"sqlite:///{tmp_path / 'old.db'}")
    assert report["clean"] and (report["chains"][0]["streams"], report["chains"][0]["rows"]) == (2, 4)


def test_the_migration_chains_existing_rows_on_postgresql():
    on_postgres_run()
    name = unique_name("chainmig")
    try:
        report = chain_a_ledger_written_before_chains(create_pg_database(name))
    finally:
        drop_pg_database(name)
    assert report["clean"] and (report["chains"][0]["streams"], report["chains"][0]["rows"]) == (2, 4)
