"""The stock card is hash-chained per drug lot: 32 pharmacists dispensing at once on 4 lots leave 4 chains that all
verify; a row changed in the database is named (stream and row) until it is put back."""

from tests.pharmacy import test_reliability
from tests.pharmacy.conftest import PHARMACIST, add_drug, dispense, prescribe, receive
from tests.pharmacy.test_reliability import burst, dispense_all
from tests.support import bearer

ADMIN = bearer("admin")
pharmacy_server = test_reliability.pharmacy_server  # the live pharmacy fixture


def verify(client):
    report = client.get("/api/v1/pharmacy/integrity", headers=ADMIN)
    assert report.status_code == 200, report.get_json()
    [chain] = report.get_json()["chains"]
    return report.get_json(), chain


def test_32_concurrent_dispensers_on_4_lots_leave_4_chains_that_verify(pharmacy_server):
    app, url = pharmacy_server
    client = app.test_client()
    codes = []
    for name, lot_number in (("paracetamol", "PCM2605A"), ("amoxicillin", "AMX2611B"), ("metformin", "MET2702C"),
                             ("amlodipine", "AML2709D")):
        code = add_drug(client, name)["code"]
        receive(client, code, lot_number, expires_in_days=300, quantity=1000)
        codes.append(code)
    prescriptions = [prescribe(client, [(codes[i % 4], 3)], encounter_id=f"ENC-2026-{9100 + i}",
                               patient_id=f"BN-{7100 + i}") for i in range(32)]

    responses = burst(url, [dispense_all(p) for p in prescriptions])

    assert sorted(r.status_code for r in responses) == [201] * 32
    report, chain = verify(client)
    assert report["clean"], chain["breaks"]
    assert (chain["streams"], chain["rows"]) == (4, 4 + 32)


def test_a_changed_stock_card_row_is_named_until_put_back(pharmacy_app, pharmacy):
    code = add_drug(pharmacy, "paracetamol")["code"]
    lot = receive(pharmacy, code, "PCM2605A", expires_in_days=300, quantity=100)
    for _ in range(3):
        assert dispense(pharmacy, prescribe(pharmacy, [(code, 2)])).status_code == 201
    db = pharmacy_app.extensions["database"]
    p = db.param
    ids = [row[0] for row in db.execute_sql(f"SELECT id FROM stock_entry WHERE lot_id = {p} ORDER BY id",
                                            (lot["id"],)).fetchall()]
    # the example: a stock-card row edited from -2 to -1
    db.execute_sql(f"UPDATE stock_entry SET quantity_change = -1 WHERE id = {p}", (ids[2],))
    report, chain = verify(pharmacy)
    assert not report["clean"]
    assert [(b["stream"], b["row_id"], b["differs"]) for b in chain["breaks"]] == [(str(lot["id"]), ids[2], "content")]
    db.execute_sql(f"UPDATE stock_entry SET quantity_change = -2 WHERE id = {p}", (ids[2],))
    assert verify(pharmacy)[0]["clean"]


def test_status_changes_counts_and_returns_are_chained_too(pharmacy):
    code = add_drug(pharmacy, "paracetamol")["code"]
    lot = receive(pharmacy, code, "PCM2605A", expires_in_days=300, quantity=100)
    assert pharmacy.post(f"/api/v1/pharmacy/lots/{lot['id']}/quarantine", json={"reason": "Chờ kiểm nghiệm"},
                         headers=PHARMACIST).status_code == 200
    assert pharmacy.post(f"/api/v1/pharmacy/lots/{lot['id']}/release", json={"reason": "Đạt kiểm nghiệm"},
                         headers=PHARMACIST).status_code == 200
    count = {"counted_quantity": 98, "reason": "Kiểm kê"}
    assert pharmacy.post(f"/api/v1/pharmacy/lots/{lot['id']}/counts", json=count,
                         headers=PHARMACIST).status_code in (200, 201)
    report, chain = verify(pharmacy)
    assert report["clean"] and chain["rows"] == 4
