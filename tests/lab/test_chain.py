"""The lab's consumption ledger is hash-chained per reagent lot: a row changed, deleted, inserted or moved in the
database is named by verify (stream and row); put back, the chain is clean again."""

from datetime import date, timedelta

from tests.lab.catalogue import HEAD, glucose_in_stock, log_test, ok
from tests.support import bearer

ADMIN = bearer("admin")
SOON = (date.today() + timedelta(days=60)).isoformat()
LATER = (date.today() + timedelta(days=300)).isoformat()


def verify(client):
    report = ok(client.get("/api/v1/lab/integrity", headers=ADMIN))
    [chain] = report["chains"]
    return report, chain


def rows_of(app, lot_number):
    db = app.extensions["database"]
    return db.execute_sql("SELECT e.id, e.quantity, e.created_at FROM ledger_entry e JOIN reagent_lot l ON l.id ="
                          " e.lot_id WHERE l.lot_number = ? ORDER BY e.id".replace("?", db.param),
                          (lot_number,)).fetchall()


def lot_id(app, lot_number):
    db = app.extensions["database"]
    return db.execute_sql("SELECT id FROM reagent_lot WHERE lot_number = " + db.param, (lot_number,)).fetchone()[0]


def run(app, statement, params=()):
    db = app.extensions["database"]
    db.execute_sql(statement.replace("?", db.param), params)


def test_a_clean_ledger_verifies_and_every_writer_chains(lab, lab_app):
    glucose_in_stock(lab, ("GL2603A", 150, SOON), ("GL2611B", 5000, LATER))
    first = ok(log_test(lab), 201)
    ok(log_test(lab), 201)
    ok(lab.post(f"/api/v1/lab/test-runs/{first['id']}/void", json={"reason": "Nhầm bệnh nhân"}, headers=HEAD))
    report, chain = verify(lab)
    assert report["clean"] and chain["breaks"] == [] and chain["streams"] == 2 and chain["rows"] >= 6


def test_a_changed_row_is_named_and_clean_again_once_put_back(lab, lab_app):
    glucose_in_stock(lab, ("GL2611B", 5000, LATER))
    for _ in range(3):
        ok(log_test(lab), 201)
    rows = rows_of(lab_app, "GL2611B")
    target, quantity = rows[2][0], rows[2][1]
    run(lab_app, "UPDATE ledger_entry SET quantity = ? WHERE id = ?", (quantity + 1, target))
    report, chain = verify(lab)
    assert not report["clean"]
    assert [(b["stream"], b["row_id"], b["differs"]) for b in chain["breaks"]] == [
        (str(lot_id(lab_app, "GL2611B")), target, "content")]
    run(lab_app, "UPDATE ledger_entry SET quantity = ? WHERE id = ?", (quantity, target))
    assert verify(lab)[0]["clean"]


def test_a_deleted_row_an_inserted_row_and_two_rows_swapped_are_each_found(lab, lab_app, monkeypatch):
    monkeypatch.setattr("common.chain.WALK_CHUNK", 2)  # the walk reads by keyset, a few rows at a time
    glucose_in_stock(lab, ("GL2611B", 5000, LATER))
    for _ in range(4):
        ok(log_test(lab), 201)
    lot = lot_id(lab_app, "GL2611B")
    ids = [row[0] for row in rows_of(lab_app, "GL2611B")]
    db = lab_app.extensions["database"]
    saved = db.execute_sql("SELECT * FROM ledger_entry WHERE id = " + db.param, (ids[2],)).fetchone()
    columns = [c[0] for c in db.execute_sql("SELECT * FROM ledger_entry WHERE id = 0").description]

    run(lab_app, "DELETE FROM ledger_entry WHERE id = ?", (ids[2],))
    _, chain = verify(lab)
    assert [(b["stream"], b["row_id"], b["differs"]) for b in chain["breaks"]] == [(str(lot), ids[3], "link")]
    run(lab_app, f"INSERT INTO ledger_entry ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        saved)
    assert verify(lab)[0]["clean"]

    run(lab_app, "INSERT INTO ledger_entry (reagent_id, lot_id, kind, quantity, cost_amount, recorded_by, created_at)"
        " SELECT reagent_id, lot_id, 'wastage', -1, 0, 'x', created_at FROM ledger_entry WHERE id = ?", (ids[1],))
    _, chain = verify(lab)
    assert [(b["row_id"], b["differs"]) for b in chain["breaks"]][0][1] in ("unchained", "head")
    run(lab_app, "DELETE FROM ledger_entry WHERE id > ?", (ids[-1],))
    assert verify(lab)[0]["clean"]

    # Swap rows 1 and 2: each keeps its id, takes the other's content and hashes.
    names = [c for c in columns if c != "id"]
    first = db.execute_sql(f"SELECT {', '.join(names)} FROM ledger_entry WHERE id = {db.param}", (ids[1],)).fetchone()
    second = db.execute_sql(f"SELECT {', '.join(names)} FROM ledger_entry WHERE id = {db.param}", (ids[2],)).fetchone()
    assignments = ", ".join(f"{name} = ?" for name in names)
    run(lab_app, f"UPDATE ledger_entry SET {assignments} WHERE id = ?", (*second, ids[1]))
    run(lab_app, f"UPDATE ledger_entry SET {assignments} WHERE id = ?", (*first, ids[2]))
    _, chain = verify(lab)
    assert [(b["stream"], b["row_id"], b["differs"]) for b in chain["breaks"]] == [(str(lot), ids[1], "link")]


def test_a_deleted_last_row_shows_against_the_lots_head(lab, lab_app):
    glucose_in_stock(lab, ("GL2611B", 5000, LATER))
    ok(log_test(lab), 201)
    ok(log_test(lab), 201)
    ids = [row[0] for row in rows_of(lab_app, "GL2611B")]
    run(lab_app, "DELETE FROM ledger_entry WHERE id = ?", (ids[-1],))
    _, chain = verify(lab)
    assert [(b["row_id"], b["differs"]) for b in chain["breaks"]] == [(ids[-2], "head")]


def test_the_periodic_check_opens_one_alert_per_broken_stream_and_closes_it_when_whole(make_app, tmp_path):
    from common.integrity import periodic
    from common.queue import app_connection

    app = make_app("lab_service", INTEGRITY_CHECK_SECONDS=1, INTEGRITY_DIGEST_DIR=str(tmp_path))
    client = app.test_client()
    glucose_in_stock(client, ("GL2611B", 5000, LATER))
    ok(log_test(client), 201)
    target = rows_of(app, "GL2611B")[-1][0]
    run(app, "UPDATE ledger_entry SET recorded_by = 'someone' WHERE id = ?", (target,))
    app.extensions["integrity_state"] = {"checked": 0, "digest_day": date(2026, 1, 1)}  # a new day has begun
    with app_connection(app):
        periodic()
        app.extensions["integrity_state"]["checked"] = 0
        periodic()  # a second check does not open a second alert
    alerts = ok(client.get("/api/v1/lab/integrity/alerts", headers=ADMIN))
    assert [(a["state"], a["row_id"], a["differs"]) for a in alerts] == [("open", str(target), "content")]
    assert list(tmp_path.glob("lab_service-*.json"))  # the day's digest was written

    run(app, "UPDATE ledger_entry SET recorded_by = 'labtech' WHERE id = ?", (target,))
    with app_connection(app):
        app.extensions["integrity_state"]["checked"] = 0
        periodic()
    assert [a["state"] for a in ok(client.get("/api/v1/lab/integrity/alerts", headers=ADMIN))] == ["closed"]


def test_a_whole_chain_rewritten_shows_against_the_kept_digest(make_app, tmp_path):
    from common import chain as chains
    from common.integrity import write_digest
    from common.queue import app_connection
    from lab_service.models import LEDGER_CHAIN

    app = make_app("lab_service", INTEGRITY_DIGEST_DIR=str(tmp_path))
    client = app.test_client()
    glucose_in_stock(client, ("GL2611B", 5000, LATER))
    ok(log_test(client), 201)
    with app_connection(app):
        write_digest()
    first = rows_of(app, "GL2611B")[0][0]
    # someone with database access changes the receipt and recomputes every hash and the lot's head
    run(app, "UPDATE ledger_entry SET quantity = 4000 WHERE id = ?", (first,))
    with app_connection(app):
        chains.chain_existing_rows(LEDGER_CHAIN, app.extensions["database"])
    report = ok(client.get("/api/v1/lab/integrity", headers=ADMIN))
    [chain] = report["chains"]
    assert not report["clean"]
    assert [b["differs"] for b in chain["breaks"]] == ["digest"]


def test_32_technicians_logging_at_once_on_4_lots_leave_4_chains_that_verify(make_app, live_server, monkeypatch):
    monkeypatch.setattr("common.chain.WALK_CHUNK", 5)  # streams end inside and across the walk's chunks
    import threading
    import uuid

    import requests

    from tests.lab.catalogue import (
        GLUCOSE_REAGENT,
        GLUCOSE_TEST,
        TECH,
        UREA_REAGENT,
        UREA_TEST,
        add_reagent,
        add_test,
        receive,
    )

    app = make_app("lab_service")
    url = live_server(app)
    client = app.test_client()
    tests = []
    for reagent, lab_test, suffix in ((GLUCOSE_REAGENT, GLUCOSE_TEST, ""), (UREA_REAGENT, UREA_TEST, ""),
                                      (GLUCOSE_REAGENT, GLUCOSE_TEST, "2"), (UREA_REAGENT, UREA_TEST, "2")):
        code = reagent["code"] + suffix
        add_reagent(client, reagent, code=code)
        add_test(client, lab_test, code=lab_test["code"] + suffix, service_code=lab_test["service_code"] + suffix,
                 recipe=[{"reagent_code": code, "quantity": 100}])
        receive(client, code, f"LOT-{code}", 100_000)
        tests.append(lab_test["code"] + suffix)
    start, statuses = threading.Barrier(32), []

    def technician(number):
        body = {"encounter_id": f"ENC-2026-2{number:05d}", "patient_id": f"BN-2{number:06d}",
                "test_code": tests[number % 4]}
        start.wait()
        statuses.append(requests.post(f"{url}/api/v1/lab/test-runs", json=body, timeout=60,
                                      headers={**TECH, "Idempotency-Key": str(uuid.uuid4())}).status_code)

    threads = [threading.Thread(target=technician, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] * 32
    report, chain = verify(client)
    assert report["clean"], chain["breaks"]
    assert (chain["streams"], chain["rows"]) == (4, 4 + 32)


def test_manage_verify_prints_the_broken_stream_and_counts_it(lab, lab_app, capsys):
    import manage

    glucose_in_stock(lab, ("GL2611B", 5000, LATER))
    ok(log_test(lab), 201)
    assert manage.verify(("lab_service",), apps={"lab_service": lab_app}) == 0
    target = rows_of(lab_app, "GL2611B")[-1][0]
    run(lab_app, "UPDATE ledger_entry SET cost_amount = 0 WHERE id = ?", (target,))
    assert manage.verify(("lab_service",), apps={"lab_service": lab_app}) == 1
    printed = capsys.readouterr().out
    assert "lab.reagent_lot_ledger: 1 stream(s), 2 row(s): 1 broken stream(s)" in printed
    assert f'"row_id": {target}, "differs": "content"' in printed
