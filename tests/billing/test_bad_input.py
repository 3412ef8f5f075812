"""Money at billing is whole đồng sent as JSON integers: no float is truncated, no string taken for a number; a charge
whose visit disagrees with its snapshot is a contract violation; months outside 1900-2100 are refused."""

import pytest

from common.bounds import MAX_AMOUNT
from tests.billing.factories import charge, encounter, invoice_of, post_charge
from tests.support import bearer, service_headers

CASHIER = bearer("cashier")
FINANCE = bearer("finance")


@pytest.mark.parametrize("amount", [1000.9, "500", 1000.0, True, MAX_AMOUNT + 1])
def test_the_cashier_cannot_record_cash_that_is_not_a_whole_number_of_dong(client, bill, amount):
    cash = {"method": "cash", "amount": amount, "reason": "Thu tiền mặt tại quầy số 2"}
    response = client.post(f"/api/v1/billing/invoices/{bill['id']}/payments", json=cash, headers=CASHIER)
    assert response.status_code == 422, response.get_json()
    assert "amount" in response.get_json()["errors"]
    assert invoice_of(client)["paid_amount"] == 0


def test_a_refund_of_1_9_dong_is_refused_not_rounded_down(client, bill):
    cash = {"method": "cash", "amount": 147_200, "reason": "Thu tiền mặt tại quầy số 2"}
    payment = client.post(f"/api/v1/billing/invoices/{bill['id']}/payments", json=cash, headers=CASHIER).get_json()
    response = client.post(f"/api/v1/billing/payments/{payment['id']}/refunds",
                           json={"amount": 1.9, "reason": "Hoàn tiền thừa cho bệnh nhân"}, headers=FINANCE)
    assert response.status_code == 422
    assert invoice_of(client)["refunded_amount"] == 0


def test_a_vietqr_for_1_7_dong_is_refused_not_issued_for_1(client, bill):
    response = client.post(f"/api/v1/billing/invoices/{bill['id']}/payment-requests",
                           json={"method": "vietqr", "amount": 1.7}, headers=CASHIER)
    assert response.status_code == 422
    listing = client.get(f"/api/v1/billing/invoices/{bill['id']}/payment-requests", headers=CASHIER)
    assert listing.get_json() == []


def test_a_charge_whose_visit_disagrees_with_its_snapshot_is_a_contract_violation(client):
    body = {"charge": charge(encounter_id="LK-2026-0001"), "encounter": encounter("LK-2026-0002")}
    response = client.post("/internal/charges", json=body, headers=service_headers("gateway"))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["code"] == "VALIDATION_FAILED"
    assert "encounter" in response.get_json()["errors"]
    batch = {"events": [{"key": "billing:lab:test-run:1", "path": "/internal/charges", "payload": body}]}
    answer = client.post("/internal/events", json=batch, headers=service_headers("gateway"))
    assert answer.status_code == 200
    assert answer.get_json()["results"][0]["status"] == 422  # the sender rejects it for good, no retrying


def test_a_charge_past_the_ceiling_is_refused_at_the_contract(client):
    big = charge(quantity=1)
    big.update(unit_price_amount=5 * 10**12, insurance_unit_price_amount=5 * 10**12, amount=5 * 10**12)
    response = post_charge(client, big)
    assert response.status_code == 422
    assert {"unit_price_amount", "insurance_unit_price_amount"} <= set(response.get_json()["errors"]["charge"])


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "2026-13", "1899-12"])
def test_finance_asking_for_a_month_outside_1900_2100_gets_422(client, period):
    for response in (client.get(f"/api/v1/billing/reconciliation?period={period}", headers=FINANCE),
                     client.post("/api/v1/billing/claim-batches", json={"period": period}, headers=FINANCE),
                     client.get(f"/api/v1/billing/claim-batches?period={period}", headers=FINANCE)):
        assert response.status_code == 422, response.get_data(as_text=True)


def test_a_remittance_row_past_the_ceiling_or_the_calendar_is_reported_not_a_500(client):
    body = ("ma_lk,table,line_no,approved_amount,rejection_reason,paid_amount,payment_reference,paid_on\r\n"
            f"LK-1,XML3,1,{MAX_AMOUNT + 1},,0,,\r\n"
            "LK-1,XML3,2,17200,,17200,BHXH-HN-2026-12-0042,99991231\r\n")
    response = client.post("/api/v1/billing/remittances", data=body.encode(),
                           headers={**FINANCE, "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert [row["line"] for row in response.get_json()["rejected"]] == [2, 3]
