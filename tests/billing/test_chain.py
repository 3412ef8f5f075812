"""A bill's ledger and its payments are hash-chained per bill: changes made in the database are named (chain,
bill, row) until they are put back; refunds, which move a payment's refunded_amount, are no false alarm."""

import requests

from tests.billing.factories import BLOOD_COUNT, HBA1C, charge, encounter, invoice_of, post_charge
from tests.support import bearer

ADMIN = bearer("admin")


def verify(client):
    response = client.get("/api/v1/billing/integrity", headers=ADMIN)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    return report, {chain["chain"]: chain for chain in report["chains"]}


def paid_bill(client):
    visit = encounter(level=None)
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), visit)
    post_charge(client, charge(HBA1C, key="lab:test-run:4"), visit)
    invoice = invoice_of(client)
    cash = {"method": "cash", "amount": 147_200, "reason": "Thu tiền mặt tại quầy số 2"}
    payment = client.post(f"/api/v1/billing/invoices/{invoice['id']}/payments", json=cash, headers=bearer("cashier"))
    assert payment.status_code == 201, payment.get_json()
    return invoice, payment.get_json()


def test_a_bill_with_charges_payments_and_a_refund_verifies(client):
    invoice, payment = paid_bill(client)
    refund = client.post(f"/api/v1/billing/payments/{payment['id']}/refunds",
                         json={"amount": 1_000, "reason": "Thu thừa"}, headers=bearer("finance"))
    assert refund.status_code == 201
    report, chains = verify(client)
    assert report["clean"], report
    assert chains["billing.invoice_ledger"]["rows"] >= 4 and chains["billing.invoice_payments"]["rows"] == 1


def test_a_changed_payment_and_a_changed_ledger_row_are_named(client, billing):
    invoice, payment = paid_bill(client)
    db = billing.extensions["database"]
    p = db.param
    db.execute_sql(f"UPDATE payment SET amount = 47200 WHERE id = {p}", (payment["id"],))
    last_ledger = db.execute_sql(f"SELECT MAX(id) FROM billing_ledger_entry WHERE invoice_id = {p}",
                                 (invoice["id"],)).fetchone()[0]
    db.execute_sql(f"UPDATE billing_ledger_entry SET cash_amount = 1 WHERE id = {p}", (last_ledger,))
    report, chains = verify(client)
    assert not report["clean"]
    assert [(b["stream"], b["row_id"], b["differs"]) for b in chains["billing.invoice_payments"]["breaks"]] == [
        (str(invoice["id"]), payment["id"], "content")]
    assert [(b["stream"], b["row_id"], b["differs"]) for b in chains["billing.invoice_ledger"]["breaks"]] == [
        (str(invoice["id"]), last_ledger, "content")]
    db.execute_sql(f"UPDATE payment SET amount = 147200 WHERE id = {p}", (payment["id"],))
    db.execute_sql(f"UPDATE billing_ledger_entry SET cash_amount = 147200 WHERE id = {p}", (last_ledger,))
    assert verify(client)[0]["clean"]


def test_32_charges_arriving_at_once_on_4_bills_leave_every_chain_whole(make_app, live_server):
    from concurrent.futures import ThreadPoolExecutor

    from tests.billing.factories import BILLING_CONFIG, GLUCOSE, billable, encounter
    from tests.support import service_headers

    app = make_app("billing_service", **BILLING_CONFIG)
    url = live_server(app)
    visits = [f"LK-2026-00{n}" for n in range(1, 5)]

    def send(n):
        body = charge(GLUCOSE, key=f"lab:test-run:{n}", encounter_id=visits[n % 4], number=n % 4 + 1)
        return lambda: requests.post(f"{url}/internal/charges", headers=service_headers("gateway"), timeout=30,
                                     json=billable(body, encounter(visits[n % 4], level=None, number=n % 4 + 1)))

    with ThreadPoolExecutor(max_workers=32) as pool:  # 32 writers at once, 8 on each bill
        responses = list(pool.map(lambda call: call(), [send(n) for n in range(32)]))
    assert sorted(r.status_code for r in responses) == [201] * 32
    report, chains = verify(app.test_client())
    assert report["clean"], report
    assert (chains["billing.invoice_ledger"]["streams"], chains["billing.invoice_ledger"]["rows"]) == (4, 32)
