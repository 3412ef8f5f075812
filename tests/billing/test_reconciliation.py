"""Finance reconciles October: charges ↔ claim lines ↔ BHXH's remittance ↔ what patients paid, every gap listed."""

import csv
import io

import pytest

from billing_service.claims.services.periods import period_of
from common.models import utcnow
from common.queue import queue_name
from tests.billing.factories import bank_notice, bank_signature
from tests.billing.test_claims_support import (
    BLOOD_COUNT,
    CEFTRIAXONE,
    FINANCE,
    GLUCOSE,
    HBA1C,
    PERIOD,
    add,
    an_october_visit,
    build_batch,
    close,
    hanoi,
    pay_cash,
    reverse,
    visit,
)
from tests.billing.test_remittance import ASSESSMENT, send
from tests.support import bearer, wait_until

EXPECTED = [
    # (kind, MA_LK, table, STT, code, expected, actual, amount)
    ("charged_not_claimed", "LK-2026-1002", None, None, "23.0083.1523", 101_000, 0, 101_000),
    ("amount_mismatch", "LK-2026-1003", "XML2", 1, "40.268", 630_000, 700_000, 70_000),
    ("claimed_not_charged", "LK-2026-1003", "XML3", 1, "23.0083.1523", 0, 101_000, 101_000),
    ("rejected_by_insurer", "LK-2026-1001", "XML3", 1, "23.0075.1494", 17_200, 0, 17_200),
    ("paid_less_than_approved", "LK-2026-1001", "XML3", 2, "23.0083.1523", 80_800, 60_000, 20_800),
    ("duplicate_charge", "LK-2026-1002", None, None, "23.0075.1494", 0, 21_500, 21_500),
    ("patient_share_unpaid", "LK-2026-1002", None, None, None, 108_040, 0, 108_040),
    ("overpaid", "LK-2026-1003", None, None, None, 126_000, 160_200, 34_200),
]


@pytest.fixture
def october(client):
    """Four October visits and a November one, claimed, assessed by BHXH and (partly) paid by the patients."""
    an_october_visit(client, "LK-2026-1001", 1)  # paid by the patient; BHXH rejects glucose, underpays HbA1c
    pay_cash(client, "LK-2026-1001", 94_500)

    b = visit("LK-2026-1002", 2)  # glucose logged twice in the same minute; the patient has not paid
    add(client, b, GLUCOSE, "lab:test-run:2001", hanoi(14, 9, 15))
    add(client, b, GLUCOSE, "lab:test-run:2002", hanoi(14, 9, 15))
    add(client, b, BLOOD_COUNT, "lab:test-run:2003", hanoi(14, 9, 20))
    add(client, b, CEFTRIAXONE, "pharmacy:dispense-line:2001", hanoi(14, 10), quantity=10)
    b = close(client, b, hanoi(14, 12))

    c = visit("LK-2026-1003", 3, day=15)  # paid in full, then HbA1c voided and 2 vials returned after the claim
    add(client, c, HBA1C, "lab:test-run:3001", hanoi(15, 8))
    add(client, c, CEFTRIAXONE, "pharmacy:dispense-line:3001", hanoi(15, 9), quantity=20)
    close(client, c, hanoi(15, 10))
    pay_cash(client, "LK-2026-1003", 160_200)

    d = visit("LK-2026-1004", 4, insured=False, day=16)  # no card, paid at the counter: nothing to report
    add(client, d, GLUCOSE, "lab:test-run:4001", hanoi(16, 8))
    close(client, d, hanoi(16, 9))
    pay_cash(client, "LK-2026-1004", 21_500)

    e = visit("LK-2026-1005", 5, day=31)  # discharged 00:30 on 1 November (Hà Nội): November's business
    add(client, e, GLUCOSE, "lab:test-run:5001", hanoi(31, 23))
    close(client, e, hanoi(1, 0, 30, month=11))

    assert build_batch(client).status_code == 201
    assert send(client, ASSESSMENT).status_code == 201
    add(client, b, HBA1C, "lab:test-run:2004", hanoi(14, 11, 50))  # reached billing after the claim was built
    reverse(client, "lab:test-run:3001", 1, 101_000, "LK-2026-1003")
    reverse(client, "pharmacy:dispense-line:3001", 2, 70_000, "LK-2026-1003", source="pharmacy")


def reconciliation(client, query: str = f"period={PERIOD}", headers: dict | None = None):
    return client.get(f"/api/v1/billing/reconciliation?{query}", headers=headers or FINANCE)


def summary(rows: list[dict]) -> list[tuple]:
    return [(row["kind"], row["encounter_id"], row["table"], row["line_no"], row["code"], row["expected_amount"],
             row["actual_amount"], row["amount"]) for row in rows]


def test_reconciling_october_lists_every_discrepancy_and_nothing_else(client, october):
    response = reconciliation(client)

    assert response.status_code == 200
    report = response.get_json()
    assert (report["period"], report["currency"]) == (PERIOD, "VND")
    assert summary(report["discrepancies"]) == EXPECTED
    rejected = report["discrepancies"][3]
    assert rejected["detail"] == "Chỉ định xét nghiệm không phù hợp chẩn đoán, xuất toán"
    duplicate = report["discrepancies"][5]
    assert (duplicate["charge_key"], duplicate["detail"]) == (
        "lab:test-run:2002", "Same item and minute as charge lab:test-run:2001")
    # the same, as a code and its values (a screen says it in its user's language)
    assert (rejected["detail_code"], rejected["detail_params"]) == (
        "insurer_reason", {"reason": "Chỉ định xét nghiệm không phù hợp chẩn đoán, xuất toán"})
    assert (duplicate["detail_code"], duplicate["detail_params"]) == (
        "same_item_and_minute", {"first_charge": "lab:test-run:2001"})
    assert all(row["detail_code"] and isinstance(row["detail_params"], dict) for row in report["discrepancies"])


def test_october_totals_add_up_charges_claims_the_insurer_and_patients(client, october):
    totals = reconciliation(client).get_json()["totals"]

    assert (totals["visit_count"], totals["insured_visit_count"]) == (4, 3)
    assert (totals["charged_line_count"], totals["charged_amount"]) == (10, 1_664_200)
    assert (totals["claimed_visit_count"], totals["claimed_line_count"]) == (3, 9)
    assert (totals["claimed_amount"], totals["claimed_insurer_amount"]) == (1_712_700, 1_370_160)
    assert (totals["assessed_line_count"], totals["unassessed_line_count"]) == (3, 6)
    assert (totals["approved_amount"], totals["insurer_paid_amount"]) == (360_800, 340_000)
    assert (totals["patient_unpaid_amount"], totals["overpaid_amount"]) == (108_040, 34_200)
    assert totals["discrepancy_count"] == 8
    assert totals["by_kind"]["rejected_by_insurer"] == {"count": 1, "amount": 17_200}
    assert totals["by_kind"]["payment_without_bill"] == {"count": 0, "amount": 0}


def test_one_kind_of_discrepancy_can_be_asked_for(client, october):
    report = reconciliation(client, f"period={PERIOD}&kind=duplicate_charge").get_json()

    assert summary(report["discrepancies"]) == [EXPECTED[5]]
    assert report["totals"]["discrepancy_count"] == 8


def test_the_reconciliation_downloads_as_csv_with_totals_first(client, october):
    by_format = reconciliation(client, f"period={PERIOD}&format=csv")
    by_accept = reconciliation(client, headers={**FINANCE, "Accept": "text/csv"})

    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"] == 'attachment; filename="reconciliation_2026-10.csv"'
    rows = list(csv.DictReader(io.StringIO(by_format.get_data(as_text=True))))
    totals = {row["detail"]: int(row["amount"]) for row in rows if row["kind"] == "total"}
    assert (totals["discrepancy_count"], totals["overpaid_amount"]) == (8, 34_200)
    assert totals["rejected_by_insurer_count"] == 1
    found = [(row["kind"], row["encounter_id"], row["amount"]) for row in rows if row["kind"] != "total"]
    assert found == [(kind, ma_lk, str(amount)) for kind, ma_lk, *_, amount in EXPECTED]


def test_a_quiet_month_has_nothing_to_report(client, october):
    report = reconciliation(client, "period=2026-09").get_json()

    assert report["discrepancies"] == []
    assert (report["totals"]["visit_count"], report["totals"]["claimed_line_count"]) == (0, 0)


def test_the_visit_discharged_after_midnight_on_31_october_belongs_to_november(client, october):
    rows = reconciliation(client, "period=2026-11").get_json()["discrepancies"]

    # 21 500 đ is under the low-cost threshold: BHYT pays it all, so only the missing claim shows.
    assert [(row["kind"], row["encounter_id"]) for row in rows] == [("charged_not_claimed", "LK-2026-1005")]


def test_a_bank_transfer_no_bill_matches_is_a_payment_without_a_bill(client):
    raw = bank_notice("CHUYEN TIEN KHAM BENH CHO ME", 150_000, transaction_id="FT26327999000111")
    answer = client.post("/api/v1/billing/webhooks/bank-transfer", data=raw, headers=bank_signature(raw))
    assert answer.status_code == 200, answer.get_json()

    report = reconciliation(client, f"period={period_of(utcnow())}").get_json()

    [row] = report["discrepancies"]
    assert (row["kind"], row["actual_amount"], row["amount"]) == ("payment_without_bill", 150_000, 150_000)
    assert "FT26327999000111" in row["detail"]
    assert report["totals"]["unmatched_transfer_amount"] == 150_000


def test_a_background_run_reports_progress_and_the_same_result(client, october):
    direct = reconciliation(client).get_json()

    started = client.post("/api/v1/billing/reconciliation-runs", json={"period": PERIOD}, headers=FINANCE)

    assert started.status_code == 202
    run = started.get_json()
    assert started.headers["Location"].endswith(f"/api/v1/billing/reconciliation-runs/{run['id']}")
    polled = client.get(f"/api/v1/billing/reconciliation-runs/{run['id']}", headers=FINANCE).get_json()
    assert (polled["state"], polled["progress"], polled["step"]) == ("done", 100, "done")
    assert polled["result"]["discrepancies"] == direct["discrepancies"]
    assert polled["result"]["totals"] == direct["totals"]
    as_csv = client.get(f"/api/v1/billing/reconciliation-runs/{run['id']}?format=csv", headers=FINANCE)
    assert as_csv.mimetype == "text/csv" and "rejected_by_insurer" in as_csv.get_data(as_text=True)


def test_a_run_in_a_background_thread_is_polled_until_done(make_app, october):
    from tests.billing.factories import BILLING_CONFIG

    client = make_app("billing_service", JOBS_INLINE_SYNC=False, **BILLING_CONFIG).test_client()

    run = client.post("/api/v1/billing/reconciliation-runs", json={"period": PERIOD},
                      headers={**FINANCE, "Idempotency-Key": "october-run"}).get_json()

    def finished():
        polled = client.get(f"/api/v1/billing/reconciliation-runs/{run['id']}", headers=FINANCE).get_json()
        return polled if polled["state"] in ("done", "failed") else None

    done = wait_until(finished, timeout=30, message="the reconciliation run to finish")
    assert (done["state"], done["progress"]) == ("done", 100)
    assert summary(done["result"]["discrepancies"]) == EXPECTED


def test_a_run_queued_on_redis_is_done_by_a_worker_while_the_caller_polls(make_app, redis_url, october):
    from redis import Redis
    from rq import Queue, SimpleWorker

    from tests.billing.factories import BILLING_CONFIG

    billing = make_app("billing_service", REDIS_URL=redis_url, **BILLING_CONFIG)
    client = billing.test_client()
    run = client.post("/api/v1/billing/reconciliation-runs", json={"period": PERIOD}, headers=FINANCE).get_json()
    assert (run["state"], run["progress"], run["result"]) == ("queued", 0, None)

    connection = Redis.from_url(redis_url)
    queue = Queue(queue_name("billing_service", billing.config.get("QUEUE_PREFIX", "")), connection=connection)
    with billing.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True)

    done = client.get(f"/api/v1/billing/reconciliation-runs/{run['id']}", headers=FINANCE).get_json()
    assert (done["state"], done["progress"]) == ("done", 100)
    assert summary(done["result"]["discrepancies"]) == EXPECTED


def test_reconciliation_is_for_finance_and_needs_a_month(client):
    assert reconciliation(client, headers=bearer("cashier")).status_code == 403
    assert reconciliation(client, "period=2026-13").status_code == 422
    assert reconciliation(client, "").status_code == 422
    missing = client.get("/api/v1/billing/reconciliation-runs/42", headers=FINANCE)
    assert missing.get_json()["code"] == "RECONCILIATION_RUN_NOT_FOUND"
