"""A bill's ledger and its payments are hash-chained per bill: changes made in the database are named (chain,
bill, row) until they are put back; refunds, which move a payment's refunded_amount, are no false alarm."""

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
