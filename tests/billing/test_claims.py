"""Finance builds the month's BHYT claims from closed, insured visits, and reads them back with their status."""

import threading

from tests.billing.test_claims_support import (
    CEFTRIAXONE,
    FINANCE,
    GLUCOSE,
    PERIOD,
    add,
    an_october_visit,
    build_batch,
    claim_of,
    close,
    hanoi,
    reverse,
    visit,
)
from tests.support import bearer


def test_building_october_claims_takes_every_closed_insured_visit_of_october(client):
    an_october_visit(client, "LK-2026-1001", 1)
    an_october_visit(client, "LK-2026-1002", 2)
    uninsured = visit("LK-2026-1003", 3, insured=False)
    add(client, uninsured, GLUCOSE, "lab:test-run:1003", hanoi(15, 9))
    close(client, uninsured, hanoi(15, 10))
    still_open = visit("LK-2026-1004", 4)
    add(client, still_open, GLUCOSE, "lab:test-run:1004", hanoi(31, 20))
    # Discharged at 00:30 on 1 November in Hà Nội (17:30 UTC on 31 October): a November visit.
    november = visit("LK-2026-1005", 5, day=31)
    add(client, november, GLUCOSE, "lab:test-run:1005", hanoi(31, 22))
    close(client, november, hanoi(1, 0, 30, month=11))

    response = build_batch(client)

    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    assert (batch["period"], batch["sequence"], batch["facility_code"]) == (PERIOD, 1, "01001")
    assert (batch["visit_count"], batch["line_count"]) == (2, 6)
    assert (batch["hospital_amount"], batch["insurer_amount"], batch["copay_amount"]) == (945_000, 756_000, 189_000)
    assert batch["export_urls"]["bhyt-4750"].endswith(f"/claim-batches/{batch['id']}/export?format=bhyt-4750")
    assert client.get("/api/v1/billing/claims?encounter_id=LK-2026-1004", headers=FINANCE).get_json() == []
    assert client.get("/api/v1/billing/claims?encounter_id=LK-2026-1005", headers=FINANCE).get_json() == []


def test_each_claim_line_is_numbered_per_table_and_remembers_its_split(client):
    an_october_visit(client)
    build_batch(client)

    claim = claim_of(client, "LK-2026-1001")

    assert (claim["ma_lk"], claim["stt"], claim["status"], claim["period"]) == ("LK-2026-1001", 1, "submitted", PERIOD)
    rows = [(line["table"], line["line_no"], line["code"], line["hospital_amount"], line["insurer_amount"],
             line["copay_amount"], line["benefit_level"]) for line in claim["lines"]]
    assert rows == [("XML2", 1, "40.268", 350_000, 280_000, 70_000, 80),
                    ("XML3", 1, "23.0075.1494", 21_500, 17_200, 4_300, 80),
                    ("XML3", 2, "23.0083.1523", 101_000, 80_800, 20_200, 80)]
    assert (claim["insurer_amount"], claim["approved_amount"], claim["paid_amount"]) == (378_000, 0, 0)


def test_a_charge_taken_back_before_the_claim_is_left_out(client):
    snapshot = visit("LK-2026-1001", 1)
    add(client, snapshot, GLUCOSE, "lab:test-run:1", hanoi(14, 8))
    add(client, snapshot, GLUCOSE, "lab:test-run:2", hanoi(14, 9))
    add(client, snapshot, CEFTRIAXONE, "pharmacy:dispense-line:1", hanoi(14, 10), quantity=10)
    reverse(client, "lab:test-run:1", 1, 21_500, "LK-2026-1001")
    close(client, snapshot, hanoi(14, 11))

    build_batch(client)

    lines = claim_of(client, "LK-2026-1001")["lines"]
    assert [(line["table"], line["line_no"]) for line in lines] == [("XML2", 1), ("XML3", 1)]


def test_posting_october_again_is_refused_until_a_late_visit_closes(client):
    an_october_visit(client, "LK-2026-1001", 1)
    late = visit("LK-2026-1002", 2)
    add(client, late, CEFTRIAXONE, "pharmacy:dispense-line:77", hanoi(30, 16), quantity=12)
    first = build_batch(client).get_json()

    again = build_batch(client)
    assert again.status_code == 409
    assert again.get_json()["code"] == "CLAIM_BATCH_EXISTS"
    assert again.get_json()["batch_ids"] == [first["id"]]

    close(client, late, hanoi(31, 17))  # the closing reached billing in November, for an October discharge
    supplement = build_batch(client)
    assert supplement.status_code == 201
    assert (supplement.get_json()["sequence"], supplement.get_json()["visit_count"]) == (2, 1)
    listing = client.get(f"/api/v1/billing/claim-batches?period={PERIOD}", headers=FINANCE).get_json()
    assert [batch["sequence"] for batch in listing] == [2, 1]


def test_a_month_without_closed_insured_visits_has_nothing_to_claim(client):
    snapshot = visit("LK-2026-1001", 1)
    add(client, snapshot, GLUCOSE, "lab:test-run:1", hanoi(14, 8))

    response = build_batch(client)

    assert response.status_code == 422
    assert response.get_json()["code"] == "NO_CLAIMABLE_VISITS"
    assert client.get("/api/v1/billing/claim-batches", headers=FINANCE).get_json() == []


def test_a_replayed_build_returns_the_same_batch(client):
    an_october_visit(client)
    headers = {**FINANCE, "Idempotency-Key": "claims-2026-10-first"}

    first, replay = build_batch(client, headers=headers), build_batch(client, headers=headers)

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json()["id"] == first.get_json()["id"]


def test_a_period_must_be_a_month(client):
    for period in ("2026-13", "10/2026", "2026-1"):
        response = build_batch(client, period=period)
        assert response.status_code == 422, period
        assert response.get_json()["code"] == "VALIDATION_FAILED"


def test_only_finance_builds_and_reads_batches_while_cashiers_read_claims(client):
    an_october_visit(client)
    assert build_batch(client, headers=bearer("cashier")).status_code == 403
    assert build_batch(client, headers=bearer("lab_tech")).status_code == 403
    batch = build_batch(client, headers=bearer("admin")).get_json()

    assert client.get(f"/api/v1/billing/claim-batches/{batch['id']}", headers=bearer("cashier")).status_code == 403
    assert client.get("/api/v1/billing/claims?encounter_id=LK-2026-1001", headers=bearer("cashier")).status_code == 200
    assert client.get("/api/v1/billing/claim-batches/999", headers=FINANCE).get_json()["code"] == \
        "CLAIM_BATCH_NOT_FOUND"
    assert client.get("/api/v1/billing/claims/999", headers=FINANCE).get_json()["code"] == "CLAIM_NOT_FOUND"


def test_two_finance_clerks_building_october_at_once_claim_each_visit_once(billing, engine):
    client = billing.test_client()
    for number in range(1, 4):
        an_october_visit(client, f"LK-2026-100{number}", number)
    answers, barrier = [], threading.Barrier(2)

    def clerk():
        own = billing.test_client()
        barrier.wait()
        answers.append(build_batch(own))

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(response.status_code for response in answers) == [201, 409]
    [batch] = client.get("/api/v1/billing/claim-batches", headers=FINANCE).get_json()
    assert batch["visit_count"] == 3
