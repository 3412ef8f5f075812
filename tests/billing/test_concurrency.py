"""Money is counted once under concurrency: real threads, real HTTP, the run's database engine."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.billing.factories import (
    BILLING_CONFIG,
    BLOOD_COUNT,
    CEFTRIAXONE,
    GLUCOSE,
    HBA1C,
    bank_notice,
    bank_signature,
    billable,
    charge,
    encounter,
)
from tests.support import bearer, keyed, service_headers

THREADS = 8


@pytest.fixture
def billing_url(make_app, live_server, engine):
    return live_server(make_app("billing_service", **BILLING_CONFIG))


def in_parallel(calls):
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(lambda call: call(), calls))


def invoice(url: str, encounter_id: str = "LK-2026-0001") -> dict:
    [summary] = requests.get(f"{url}/api/v1/billing/invoices", params={"encounter_id": encounter_id},
                             headers=bearer("finance"), timeout=10).json()
    return requests.get(f"{url}/api/v1/billing/invoices/{summary['id']}", headers=bearer("finance"), timeout=10).json()


def send_charge(url: str, body: dict):
    return lambda: requests.post(f"{url}/internal/charges", json=billable(body, encounter(level=None)),
                                 headers=service_headers("gateway"), timeout=20).status_code


def test_charges_of_one_visit_arriving_together_make_one_bill_with_every_line(billing_url):
    items = [(BLOOD_COUNT, 1), (HBA1C, 1), (GLUCOSE, 2), (CEFTRIAXONE, 3)] * 2
    calls = [send_charge(billing_url, charge(item, key=f"lab:test-run:{n}", quantity=qty))
             for n, (item, qty) in enumerate(items)]

    assert sorted(in_parallel(calls)) == [201] * len(items)

    bill = invoice(billing_url)
    assert len(bill["lines"]) == len(items)
    assert bill["hospital_amount"] == bill["patient_amount"] == 2 * (46_200 + 101_000 + 43_000 + 105_000)


def test_the_same_charge_sent_eight_times_at_once_is_one_line(billing_url):
    body = charge(HBA1C, key="lab:test-run:9")
    statuses = in_parallel([send_charge(billing_url, body)] * THREADS)

    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert invoice(billing_url)["hospital_amount"] == 101_000


def test_the_same_bank_notice_delivered_eight_times_at_once_pays_once(billing_url):
    send_charge(billing_url, charge(HBA1C, key="lab:test-run:9"))()
    reference = invoice(billing_url)["reference"]
    raw = bank_notice(reference, 101_000)

    answers = in_parallel([lambda: requests.post(f"{billing_url}/api/v1/billing/webhooks/bank-transfer", data=raw,
                                                 headers=bank_signature(raw), timeout=20).json()["status"]] * THREADS)

    assert sorted(answers) == ["duplicate"] * (THREADS - 1) + ["matched"]
    bill = invoice(billing_url)
    assert (bill["paid_amount"], bill["state"], len(bill["payments"])) == (101_000, "paid", 1)


def test_refunds_racing_on_one_payment_never_give_back_more_than_it_received(billing_url):
    send_charge(billing_url, charge(HBA1C, key="lab:test-run:9"))()
    bill = invoice(billing_url)
    cash = {"method": "cash", "amount": 101_000, "reason": "Thu tiền mặt tại quầy số 1"}
    payment = requests.post(f"{billing_url}/api/v1/billing/invoices/{bill['id']}/payments", json=cash,
                            headers=keyed(bearer("cashier")), timeout=10).json()

    def refund():
        return requests.post(f"{billing_url}/api/v1/billing/payments/{payment['id']}/refunds",
                             json={"amount": 30_000, "reason": "Hoàn tiền chênh lệch"},
                             headers=keyed(bearer("finance")), timeout=20).status_code

    statuses = in_parallel([refund] * THREADS)

    assert sorted(statuses) == [201] * 3 + [422] * (THREADS - 3)
    assert invoice(billing_url)["refunded_amount"] == 90_000
