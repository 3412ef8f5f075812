"""The gateway's charges are hash-chained per source and its audit log as one chain placed by the spool drain: a
row changed in the database is named until put back; finance attaching a flagged charge is no false alarm."""

from tests.gateway.conftest import glucose_charge, metformin_charge, open_visit, register, send_charge
from tests.support import bearer

ADMIN = bearer("admin")


def verify(client):
    response = client.get("/api/v1/gateway/integrity", headers=ADMIN)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    return report, {chain["chain"]: chain for chain in report["chains"]}


def breaks(chain):
    return [(b["stream"], b["row_id"], b["differs"]) for b in chain["breaks"]]


def test_charges_and_audit_lines_verify_and_a_changed_one_is_named(gateway_app, gateway, monkeypatch):
    monkeypatch.setattr("common.chain.WALK_CHUNK", 2)
    patient = register(gateway)
    visit = open_visit(gateway, patient["id"])
    for run_id in (1, 2, 3):
        assert send_charge(gateway, glucose_charge(visit["id"], patient["id"], run_id=run_id)).status_code == 201
    assert send_charge(gateway, metformin_charge(visit["id"], patient["id"])).status_code == 201
    assert gateway.get(f"/api/v1/patients/{patient['id']}", headers=bearer("cashier")).status_code == 200
    report, chains = verify(gateway)
    assert report["clean"], report
    assert (chains["gateway.charges"]["streams"], chains["gateway.charges"]["rows"]) == (2, 4)
    assert chains["gateway.audit"]["rows"] >= 3 and chains["gateway.audit"]["pending"] == 0

    db = gateway_app.extensions["database"]
    p = db.param
    second = db.execute_sql(f"SELECT id FROM charge WHERE key = {p}", ("lab:test-run:2",)).fetchone()[0]
    db.execute_sql(f"UPDATE charge SET amount = 1 WHERE id = {p}", (second,))
    audit_id = db.execute_sql("SELECT MIN(id) FROM audit_entry").fetchone()[0]
    db.execute_sql(f"UPDATE audit_entry SET actor = 'someone-else' WHERE id = {p}", (audit_id,))
    report, chains = verify(gateway)
    assert not report["clean"]
    assert breaks(chains["gateway.charges"]) == [("lab", second, "content")]
    assert breaks(chains["gateway.audit"]) == [("all", audit_id, "content")]
    db.execute_sql(f"UPDATE charge SET amount = 21500 WHERE id = {p}", (second,))
    db.execute_sql(f"UPDATE audit_entry SET actor = 'cashier' WHERE id = {p}", (audit_id,))
    assert verify(gateway)[0]["clean"]
