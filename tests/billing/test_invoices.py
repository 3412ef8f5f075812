"""Charges from the gateway become one bill per visit, each line split between BHYT and the patient."""

from datetime import timedelta

import pytest

from tests.billing.factories import (
    BLOOD_COUNT,
    CEFTRIAXONE,
    GLUCOSE,
    HBA1C,
    NOW,
    billable,
    charge,
    coverage,
    encounter,
    invoice_of,
    post_charge,
    reversal,
)
from tests.support import bearer, service_headers


def test_a_charge_on_an_80_percent_card_visit_over_the_low_cost_threshold_is_split_80_20(client):
    assert post_charge(client, charge(CEFTRIAXONE, key="pharmacy:dispense-line:7", quantity=10)).status_code == 201
    assert post_charge(client, charge(GLUCOSE, key="lab:test-run:1")).status_code == 201

    invoice = invoice_of(client)
    assert invoice["state"] == "open" and invoice["reference"].startswith("HD")
    assert invoice["benefit_level"] == 80
    drug, glucose = invoice["lines"]
    assert (drug["hospital_amount"], drug["insurer_amount"], drug["copay_amount"]) == (350_000, 280_000, 70_000)
    assert (glucose["insurer_amount"], glucose["copay_amount"], glucose["patient_outside_amount"]) == (17_200, 4_300, 0)
    assert (invoice["insurer_amount"], invoice["patient_amount"]) == (297_200, 74_300)
    assert invoice["balance_amount"] == 74_300


def test_a_visit_below_15_percent_of_base_salary_is_paid_fully_by_insurance(client):
    post_charge(client, charge(CEFTRIAXONE, key="pharmacy:dispense-line:7", quantity=10))

    invoice = invoice_of(client)
    assert invoice["benefit_level"] == 100
    assert (invoice["insurer_amount"], invoice["patient_amount"]) == (350_000, 0)
    assert invoice["state"] == "paid" and invoice["balance_amount"] == 0


def test_crossing_the_threshold_and_back_resplits_every_line_of_the_open_bill(client):
    post_charge(client, charge(CEFTRIAXONE, key="pharmacy:dispense-line:7", quantity=10))
    post_charge(client, charge(GLUCOSE, key="lab:test-run:1"))
    assert invoice_of(client)["benefit_level"] == 80

    response = client.post("/internal/charge-reversals", json=reversal("lab:test-run:1"), headers=service_headers())
    assert response.status_code == 201 and response.get_json()["state"] == "applied"

    invoice = invoice_of(client)
    assert invoice["benefit_level"] == 100
    assert invoice["lines"][1]["quantity"] == 0 and invoice["lines"][1]["hospital_amount"] == 0
    assert (invoice["hospital_amount"], invoice["insurer_amount"], invoice["patient_amount"]) == (350_000, 350_000, 0)


def test_an_out_of_network_visit_pays_card_level_times_network_rate(client):
    visit = encounter(level=80, in_network=False, network_rate=40)
    post_charge(client, charge(CEFTRIAXONE, key="pharmacy:dispense-line:7", quantity=10), visit)

    invoice = invoice_of(client)
    assert invoice["benefit_level"] == 32
    assert (invoice["insurer_amount"], invoice["copay_amount"]) == (112_000, 238_000)


def test_a_hospital_price_above_the_insurance_price_leaves_the_difference_to_the_patient(client):
    post_charge(client, charge(CEFTRIAXONE, key="pharmacy:dispense-line:7", quantity=10))
    post_charge(client, charge(HBA1C, key="lab:test-run:2", insurance_price=90_000))

    line = invoice_of(client)["lines"][1]
    assert (line["hospital_amount"], line["insured_amount"]) == (101_000, 90_000)
    assert (line["insurer_amount"], line["copay_amount"], line["patient_outside_amount"]) == (72_000, 18_000, 11_000)


def test_a_patient_without_a_card_pays_everything(client):
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), encounter(level=None))

    invoice = invoice_of(client)
    [line] = invoice["lines"]
    assert line["self_pay"] is True and line["benefit_level"] == 0
    assert (invoice["insurer_amount"], invoice["patient_amount"], invoice["state"]) == (0, 46_200, "open")


def test_a_card_that_expired_before_the_test_makes_that_line_self_pay(client):
    expired = coverage(valid_from=NOW.date() - timedelta(days=400), valid_to=NOW.date() - timedelta(days=35))
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), encounter(card=expired))

    [line] = invoice_of(client)["lines"]
    assert line["self_pay"] is True and line["patient_outside_amount"] == 46_200


def test_each_line_is_paid_by_the_card_valid_on_its_day(client):
    today = NOW.date()
    old_card = coverage(80, valid_from=today - timedelta(days=300), valid_to=today - timedelta(days=1))
    new_card = {**coverage(95, valid_from=today), "card_number": "HT3010123456789"}
    post_charge(client, charge(CEFTRIAXONE, key="pharmacy:dispense-line:7", quantity=10,
                               occurred_at=NOW - timedelta(days=2)), encounter(card=old_card))
    post_charge(client, charge(GLUCOSE, key="lab:test-run:1"), encounter(card=new_card))

    drug, glucose = invoice_of(client)["lines"]
    assert (drug["self_pay"], drug["benefit_level"], drug["insurer_amount"]) == (False, 80, 280_000)
    assert (glucose["self_pay"], glucose["benefit_level"], glucose["insurer_amount"]) == (False, 95, 20_425)


def test_a_drug_outside_the_insurance_list_is_paid_by_the_patient(client):
    post_charge(client, charge(CEFTRIAXONE, key="pharmacy:dispense-line:8", quantity=2, covered=False))

    [line] = invoice_of(client)["lines"]
    assert (line["insured_amount"], line["patient_outside_amount"]) == (0, 70_000)


def test_a_replayed_charge_changes_nothing_and_answers_200(client):
    assert post_charge(client, charge(GLUCOSE, key="lab:test-run:1")).status_code == 201
    before = invoice_of(client)

    replay = post_charge(client, charge(GLUCOSE, key="lab:test-run:1"))

    assert replay.status_code == 200
    after = invoice_of(client)
    assert len(after["lines"]) == 1 and after["hospital_amount"] == before["hospital_amount"] == 21_500


def test_a_replayed_reversal_takes_the_test_off_only_once(client):
    post_charge(client, charge(GLUCOSE, key="lab:test-run:1", quantity=2))
    first = client.post("/internal/charge-reversals", json=reversal("lab:test-run:1"), headers=service_headers())
    again = client.post("/internal/charge-reversals", json=reversal("lab:test-run:1"), headers=service_headers())

    assert (first.status_code, again.status_code) == (201, 200)
    [line] = invoice_of(client)["lines"]
    assert (line["quantity"], line["reversed_quantity"], line["hospital_amount"]) == (1, 1, 21_500)


def test_reversing_more_than_was_charged_is_refused_and_kept(client):
    post_charge(client, charge(GLUCOSE, key="lab:test-run:1"))

    response = client.post("/internal/charge-reversals", json=reversal("lab:test-run:1", quantity=2, amount=43_000),
                           headers=service_headers())

    assert response.status_code == 201 and response.get_json()["state"] == "refused"
    assert invoice_of(client)["lines"][0]["quantity"] == 1


def test_a_reversal_that_arrives_before_its_charge_is_applied_when_the_charge_comes(client):
    early = client.post("/internal/charge-reversals", json=reversal("lab:test-run:1"), headers=service_headers())
    assert early.status_code == 201 and early.get_json()["state"] == "pending"

    post_charge(client, charge(GLUCOSE, key="lab:test-run:1", quantity=3))

    [line] = invoice_of(client)["lines"]
    assert (line["quantity"], line["hospital_amount"]) == (2, 43_000)


def test_reversing_every_charge_voids_the_bill(client):
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), encounter(level=None))
    client.post("/internal/charge-reversals", json=reversal("lab:test-run:3", amount=46_200),
                headers=service_headers())

    assert invoice_of(client)["state"] == "void"


def test_a_closed_visit_snapshot_is_kept_and_an_older_open_one_does_not_replace_it(client, billing):
    post_charge(client, charge(GLUCOSE, key="lab:test-run:1"))
    closed = client.post("/internal/encounters", json=encounter(status="closed"), headers=service_headers())
    stale = client.post("/internal/encounters", json=encounter(status="open"), headers=service_headers())

    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    assert stale.get_json()["state"] == "closed"
    with billing.app_context():
        from billing_service.models import EncounterSnapshot

        snapshot = EncounterSnapshot.get(EncounterSnapshot.encounter_id == "LK-2026-0001")
        assert (snapshot.status, snapshot.diagnosis_main) == ("closed", "E11.9")


def test_a_card_shown_after_the_tests_resplits_the_open_bill(client):
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), encounter(level=None))
    assert invoice_of(client)["patient_amount"] == 46_200

    response = client.post("/internal/encounters", json=encounter(level=95), headers=service_headers())

    assert response.status_code == 200
    invoice = invoice_of(client)
    assert invoice["lines"][0]["self_pay"] is False
    assert (invoice["insurer_amount"], invoice["patient_amount"], invoice["state"]) == (46_200, 0, "paid")


def test_a_new_visit_snapshot_is_stored_before_any_charge(client):
    response = client.post("/internal/encounters", json=encounter("LK-2026-0002"), headers=service_headers())
    assert response.status_code == 201 and response.get_json()["invoice_id"] is None


def test_the_intake_needs_the_service_token(client):
    response = client.post("/internal/charges", json={"charge": charge(), "encounter": encounter()},
                           headers=bearer("cashier"))
    assert response.status_code == 401 and response.get_json()["code"] == "SERVICE_TOKEN_REQUIRED"


def test_a_charge_that_breaks_the_contract_is_a_422(client):
    bad = charge()
    bad["quantity"] = 0
    response = post_charge(client, bad)
    assert response.status_code == 422 and "charge" in response.get_json()["errors"]


@pytest.mark.parametrize("role,status", [("cashier", 200), ("finance", 200), ("lab_tech", 403), ("pharmacist", 403)])
def test_bills_are_read_by_cashiers_and_finance_only(client, role, status):
    assert client.get("/api/v1/billing/invoices", headers=bearer(role)).status_code == status


def test_an_unknown_invoice_is_a_404_with_its_code(client):
    response = client.get("/api/v1/billing/invoices/999", headers=bearer("finance"))
    assert response.status_code == 404 and response.get_json()["code"] == "INVOICE_NOT_FOUND"


ITEMS = [(GLUCOSE, 1), (BLOOD_COUNT, 1), (HBA1C, 1), (CEFTRIAXONE, 3), (GLUCOSE, 2), (CEFTRIAXONE, 4),
         (BLOOD_COUNT, 2), (HBA1C, 1)]


@pytest.mark.parametrize("card", [80, 95, None], ids=["80-percent-card", "95-percent-card", "self-pay"])
def test_a_bill_built_charge_by_charge_is_the_bill_split_again_from_scratch(client, billing, card):
    """Lines split alone as charges arrive (the others unchanged) add up to what a full re-split gives, across the
    15 % threshold too."""
    for number, (item, quantity) in enumerate(ITEMS):
        covered = number % 3 != 2  # every third line out of the BHYT list
        assert post_charge(client, charge(item, key=f"lab:test-run:{number}", quantity=quantity, covered=covered),
                           encounter(level=card)).status_code == 201
    built = invoice_of(client)
    with billing.app_context():
        from billing_service.models import Invoice
        from billing_service.services.intake import settle_invoice
        from billing_service.services.invoices import lock_invoice

        with billing.extensions["database"].atomic():
            settle_invoice(lock_invoice(Invoice.get().id), "resplit", "test:from-scratch")
    again = invoice_of(client)
    money = ("hospital_amount", "insured_amount", "insurer_amount", "copay_amount", "patient_outside_amount",
             "benefit_level", "self_pay")
    assert [{k: line[k] for k in money} for line in again["lines"]] == [
        {k: line[k] for k in money} for line in built["lines"]]
    assert {k: again[k] for k in ("hospital_amount", "insurer_amount", "patient_amount", "benefit_level", "state")} == {
        k: built[k] for k in ("hospital_amount", "insurer_amount", "patient_amount", "benefit_level", "state")}


def _deliver(client, bodies: list[dict]):
    """One batched delivery (/internal/events), as the gateway's outbox sends it."""
    events = [{"key": body["charge"]["key"], "path": "/internal/charges", "payload": body} for body in bodies]
    response = client.post("/internal/events", json={"events": events}, headers=service_headers("gateway"))
    assert response.status_code == 200, response.get_json()
    return [result["status"] for result in response.get_json()["results"]]


def test_one_delivery_for_several_visits_bills_each_as_charges_sent_one_by_one_would(client):
    """A delivery's visits are read, locked and written together: each bill ends as the same charges sent one at a
    time leave it, with one ledger row per visit and delivery, and every bill's ledger chain verifies."""
    from tests.billing.test_chain import verify

    def visits(prefix: str):
        return [(f"{prefix}-1", 1, 80), (f"{prefix}-2", 2, None), (f"{prefix}-3", 3, 95)]

    rounds = [[(GLUCOSE, 1), (HBA1C, 1)], [(CEFTRIAXONE, 3)], [(BLOOD_COUNT, 2), (GLUCOSE, 1), (HBA1C, 2)]]
    client.post("/internal/charge-reversals", json=reversal("lab:B-3:0:1"), headers=service_headers())
    client.post("/internal/charge-reversals", json=reversal("lab:A-3:0:1"), headers=service_headers())
    for number, items in enumerate(rounds):
        batch = []
        for prefix in ("A", "B"):
            for visit, person, level in visits(prefix):
                for index, (item, quantity) in enumerate(items):
                    body = billable(charge(item, key=f"lab:{visit}:{number}:{index}", quantity=quantity,
                                           encounter_id=visit, number=person),
                                    encounter(visit, level=level, number=person))
                    if prefix == "A":
                        assert post_charge(client, body["charge"], body["encounter"]).status_code == 201
                    else:
                        batch.append(body)
        assert _deliver(client, batch + batch[:1]) == [201] * len(batch) + [200]
    money = ("hospital_amount", "insured_amount", "insurer_amount", "copay_amount", "patient_outside_amount",
             "benefit_level", "self_pay", "quantity")
    for (one_by_one, _, _), (delivered, _, _) in zip(visits("A"), visits("B"), strict=True):
        alone, together = invoice_of(client, one_by_one), invoice_of(client, delivered)
        assert [{k: line[k] for k in money} for line in together["lines"]] == [
            {k: line[k] for k in money} for line in alone["lines"]]
        totals = ("hospital_amount", "insurer_amount", "patient_amount", "benefit_level", "state")
        assert {k: together[k] for k in totals} == {k: alone[k] for k in totals}
        ledger = client.get(f"/api/v1/billing/invoices/{together['id']}/ledger", headers=bearer("finance"))
        assert [row["kind"] for row in ledger.get_json()] == ["charge"] * len(rounds)
        assert sum(row["hospital_amount"] for row in ledger.get_json()) == together["hospital_amount"]
    report, _chains = verify(client)
    assert report["clean"], report
