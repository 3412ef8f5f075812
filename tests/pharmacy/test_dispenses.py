"""Dispensing a prescription: FEFO over usable lots, partial dispensing, stock errors, idempotency, charges."""

import pytest

from tests.pharmacy.conftest import (
    PHARMACIST,
    add_drug,
    charges_of,
    dispense,
    let_lot_expire,
    lots_on_hand,
    pending_events,
    prescribe,
    receive,
)
from tests.support import bearer


def test_dispensing_amoxicillin_takes_the_lot_that_expires_first(pharmacy):
    amoxicillin = add_drug(pharmacy, "amoxicillin")["code"]
    receive(pharmacy, amoxicillin, "AMX2611B", expires_in_days=400, quantity=100)
    receive(pharmacy, amoxicillin, "AMX2605A", expires_in_days=120, quantity=15)
    prescription = prescribe(pharmacy, [(amoxicillin, 21)])

    response = dispense(pharmacy, prescription)

    assert response.status_code == 201, response.get_json()
    line = response.get_json()["lines"][0]
    assert [(lot["lot_number"], lot["quantity"]) for lot in line["lots"]] == [("AMX2605A", 15), ("AMX2611B", 6)]
    assert line["amount"] == 21 * 1_050
    assert lots_on_hand(pharmacy, amoxicillin) == {"AMX2605A": 0, "AMX2611B": 94}


def test_expired_quarantined_and_recalled_lots_are_never_dispensed(pharmacy_app, pharmacy):
    paracetamol = add_drug(pharmacy, "paracetamol")["code"]
    expired = receive(pharmacy, paracetamol, "PCM2501X", expires_in_days=30, quantity=50)
    let_lot_expire(pharmacy_app, expired["id"])
    quarantined = receive(pharmacy, paracetamol, "PCM2602Q", expires_in_days=60, quantity=50)
    pharmacy.post(f"/api/v1/pharmacy/lots/{quarantined['id']}/quarantine", json={"reason": "Viên bị ẩm, chờ kiểm"},
                  headers=PHARMACIST)
    recalled = receive(pharmacy, paracetamol, "PCM2603R", expires_in_days=90, quantity=50)
    pharmacy.post(f"/api/v1/pharmacy/lots/{recalled['id']}/recall", json={"reason": "Công văn thu hồi của Cục QLD"},
                  headers=PHARMACIST)
    receive(pharmacy, paracetamol, "PCM2712G", expires_in_days=500, quantity=50)

    response = dispense(pharmacy, prescribe(pharmacy, [(paracetamol, 20)]))

    assert response.status_code == 201
    assert [lot["lot_number"] for lot in response.get_json()["lines"][0]["lots"]] == ["PCM2712G"]
    assert lots_on_hand(pharmacy, paracetamol) == {"PCM2501X": 50, "PCM2602Q": 50, "PCM2603R": 50, "PCM2712G": 30}


def test_a_partial_dispense_leaves_the_rest_of_the_line_open(pharmacy):
    metformin = add_drug(pharmacy, "metformin")["code"]
    amlodipine = add_drug(pharmacy, "amlodipine")["code"]
    receive(pharmacy, metformin, "MET2609A", expires_in_days=300, quantity=500)
    receive(pharmacy, amlodipine, "AML2610A", expires_in_days=300, quantity=500)
    prescription = prescribe(pharmacy, [(metformin, 60), (amlodipine, 30)])

    assert dispense(pharmacy, prescription, [30, 0]).status_code == 201
    after_first = pharmacy.get(f"/api/v1/pharmacy/prescriptions/{prescription['id']}", headers=PHARMACIST).get_json()
    assert after_first["status"] == "partially_dispensed"
    assert [line["remaining"] for line in after_first["lines"]] == [30, 30]

    assert dispense(pharmacy, prescription, [30, 30]).status_code == 201
    done = pharmacy.get(f"/api/v1/pharmacy/prescriptions/{prescription['id']}", headers=PHARMACIST).get_json()
    assert done["status"] == "dispensed" and len(done["dispense_ids"]) == 2
    assert lots_on_hand(pharmacy, metformin) == {"MET2609A": 440}


def test_asking_for_more_than_the_line_has_left_is_a_422(pharmacy):
    omeprazole = add_drug(pharmacy, "omeprazole")["code"]
    receive(pharmacy, omeprazole, "OME2608A", expires_in_days=300, quantity=200)
    prescription = prescribe(pharmacy, [(omeprazole, 28)])
    assert dispense(pharmacy, prescription, [20]).status_code == 201

    response = dispense(pharmacy, prescription, [10])

    assert response.status_code == 422
    assert response.get_json()["code"] == "EXCEEDS_PRESCRIPTION" and response.get_json()["remaining"] == 8
    assert lots_on_hand(pharmacy, omeprazole) == {"OME2608A": 180}


def test_asking_for_more_than_usable_stock_is_a_409_that_says_what_is_usable(pharmacy_app, pharmacy):
    ceftriaxone = add_drug(pharmacy, "ceftriaxone")["code"]
    losartan = add_drug(pharmacy, "losartan")["code"]
    receive(pharmacy, losartan, "LOS2607A", expires_in_days=300, quantity=100)
    receive(pharmacy, ceftriaxone, "CEF2606A", expires_in_days=200, quantity=6)
    old = receive(pharmacy, ceftriaxone, "CEF2501A", expires_in_days=100, quantity=10)
    let_lot_expire(pharmacy_app, old["id"])

    response = dispense(pharmacy, prescribe(pharmacy, [(losartan, 30), (ceftriaxone, 14)]))

    assert response.status_code == 409
    problem = response.get_json()
    assert problem["code"] == "INSUFFICIENT_STOCK"
    assert (problem["drug_code"], problem["requested"], problem["usable"]) == (ceftriaxone, 14, 6)
    assert lots_on_hand(pharmacy, losartan) == {"LOS2607A": 100}  # nothing of the prescription was dispensed
    assert pending_events(pharmacy, "charge.created") == []


def test_a_replayed_dispense_with_the_same_key_dispenses_once(pharmacy):
    insulin = add_drug(pharmacy, "insulin_glargine")["code"]
    receive(pharmacy, insulin, "LAN2609A", expires_in_days=300, quantity=20, cost_amount=198_000)
    prescription = prescribe(pharmacy, [(insulin, 2)])
    key = {"Idempotency-Key": "quay-thuoc-3:don-1:lan-1"}

    first = dispense(pharmacy, prescription, headers=key)
    again = dispense(pharmacy, prescription, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert lots_on_hand(pharmacy, insulin) == {"LAN2609A": 18}
    assert len(pending_events(pharmacy, "charge.created")) == 1


def test_each_dispensed_line_is_one_charge_on_the_visit_at_the_gateway(pharmacy, gateway):
    amoxicillin = add_drug(pharmacy, "amoxicillin")["code"]
    atorvastatin = add_drug(pharmacy, "atorvastatin")["code"]
    receive(pharmacy, amoxicillin, "AMX2605A", expires_in_days=120, quantity=10, cost_amount=860)
    receive(pharmacy, amoxicillin, "AMX2611B", expires_in_days=400, quantity=100, cost_amount=900)
    receive(pharmacy, atorvastatin, "ATO2610A", expires_in_days=300, quantity=100, cost_amount=1_000)
    prescription = prescribe(pharmacy, [(amoxicillin, 15), (atorvastatin, 30)], encounter_id="ENC-2026-004711")

    dispensed = dispense(pharmacy, prescription).get_json()

    charges = charges_of(gateway, "ENC-2026-004711")
    assert [(c["code"], c["quantity"], c["amount"], c["cost_amount"]) for c in charges] == [
        (amoxicillin, 15, 15 * 1_050, 10 * 860 + 5 * 900), (atorvastatin, 30, 30 * 1_200, 30 * 1_000)]
    assert {c["key"] for c in charges} == {line["charge_key"] for line in dispensed["lines"]}
    event = pending_events(pharmacy, "charge.created")[0]
    assert event["insurance_covered"] is True and event["unit"] == "Viên"  # DON_VI_TINH, not the base unit
    assert event["details"]["atc_code"] == "J01CA04"
    assert [lot["lot_number"] for lot in event["details"]["lots"]] == ["AMX2605A", "AMX2611B"]
    outbox = pharmacy.get("/api/v1/pharmacy/outbox?state=pending", headers=PHARMACIST).get_json()
    assert outbox == []


def test_a_drug_outside_the_bhyt_list_is_charged_as_not_covered(pharmacy):
    glucosamine = add_drug(pharmacy, "glucosamine")["code"]
    receive(pharmacy, glucosamine, "GLU2609A", expires_in_days=300, quantity=60, cost_amount=1_800)

    assert dispense(pharmacy, prescribe(pharmacy, [(glucosamine, 30)])).status_code == 201

    event = pending_events(pharmacy, "charge.created")[0]
    assert event["insurance_covered"] is False and event["amount"] == 69_000


@pytest.mark.parametrize("role,status", [("cashier", 403), ("lab_tech", 403), ("pharmacist", 201), ("admin", 201)])
def test_only_pharmacists_dispense(pharmacy, role, status):
    paracetamol = add_drug(pharmacy, "paracetamol")["code"]
    receive(pharmacy, paracetamol, "PCM2712G", expires_in_days=500, quantity=50)
    prescription = prescribe(pharmacy, [(paracetamol, 10)])
    lines = [{"line_id": prescription["lines"][0]["id"], "quantity": 10}]
    response = pharmacy.post(f"/api/v1/pharmacy/prescriptions/{prescription['id']}/dispenses",
                             json={"lines": lines}, headers=bearer(role))
    assert response.status_code == status


def test_a_line_of_another_prescription_is_a_422(pharmacy):
    paracetamol = add_drug(pharmacy, "paracetamol")["code"]
    receive(pharmacy, paracetamol, "PCM2712G", expires_in_days=500, quantity=50)
    mine, other = prescribe(pharmacy, [(paracetamol, 10)]), prescribe(pharmacy, [(paracetamol, 10)])
    response = pharmacy.post(f"/api/v1/pharmacy/prescriptions/{mine['id']}/dispenses",
                             json={"lines": [{"line_id": other["lines"][0]["id"], "quantity": 5}]},
                             headers=PHARMACIST)
    assert response.status_code == 422 and response.get_json()["code"] == "UNKNOWN_LINE"


def test_two_lines_of_the_same_drug_share_its_lots_first_expiry_first(pharmacy):
    paracetamol = add_drug(pharmacy, "paracetamol")["code"]
    receive(pharmacy, paracetamol, "PCM2604A", expires_in_days=100, quantity=15)
    receive(pharmacy, paracetamol, "PCM2712G", expires_in_days=500, quantity=100)
    prescription = prescribe(pharmacy, [(paracetamol, 10), (paracetamol, 10)])

    lines = dispense(pharmacy, prescription).get_json()["lines"]

    assert [[(lot["lot_number"], lot["quantity"]) for lot in line["lots"]] for line in lines] == [
        [("PCM2604A", 10)], [("PCM2604A", 5), ("PCM2712G", 5)]]
    assert lots_on_hand(pharmacy, paracetamol) == {"PCM2604A": 0, "PCM2712G": 95}
    card = pharmacy.get(f"/api/v1/pharmacy/drugs/{paracetamol}/ledger", headers=PHARMACIST).get_json()
    assert card[0]["drug_balance_after"] == 95


@pytest.mark.parametrize("key", [None, "quay-thuoc-1:don-7:lan-1"])
def test_a_dispense_whose_lot_moved_is_undone_and_planned_again(pharmacy, monkeypatch, key):
    from pharmacy_service.services import fefo

    amoxicillin = add_drug(pharmacy, "amoxicillin")["code"]
    receive(pharmacy, amoxicillin, "AMX2605A", expires_in_days=120, quantity=15)
    receive(pharmacy, amoxicillin, "AMX2611B", expires_in_days=400, quantity=100)
    prescription = prescribe(pharmacy, [(amoxicillin, 21)])
    real_take, lost = fefo.take_planned, []

    def take_after_a_rival(plan, reference, today):
        if not lost:  # the first lot is emptied (in this very attempt) just before our decrement
            lost.append(reference)
            real_take({line: [(lot, 15) for lot, _ in picks[:1]] for line, picks in plan.items()}, "rival", today)
        return real_take(plan, reference, today)

    monkeypatch.setattr(fefo, "take_planned", take_after_a_rival)
    response = dispense(pharmacy, prescription, headers={"Idempotency-Key": key} if key else None)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # the first attempt (its claim, rows, charge and the emptying) was undone as a whole; the second planned again
    assert len(lost) == 1
    assert [(lot["lot_number"], lot["quantity"]) for lot in body["lines"][0]["lots"]] == [("AMX2605A", 15),
                                                                                           ("AMX2611B", 6)]
    assert lots_on_hand(pharmacy, amoxicillin) == {"AMX2605A": 0, "AMX2611B": 94}
    read = pharmacy.get(f"/api/v1/pharmacy/prescriptions/{prescription['id']}", headers=PHARMACIST).get_json()
    assert read["dispense_ids"] == [body["id"]] and read["lines"][0]["remaining"] == 0
    assert [event["key"] for event in pending_events(pharmacy, "charge.created")] == [body["lines"][0]["charge_key"]]


def test_a_three_line_dispense_reads_its_prescription_once_and_no_row_per_line(pharmacy):
    """The lines are written from ids already in hand: no lazy read of the dispense, its prescription or a
    prescription line for each line dispensed (each cost a statement per line, three per dispense here)."""
    import logging

    codes = [add_drug(pharmacy, name)["code"] for name in ("amoxicillin", "paracetamol", "omeprazole")]
    for number, code in enumerate(codes):
        receive(pharmacy, code, f"LOT26{number:02d}A", expires_in_days=300, quantity=100)
    prescription = prescribe(pharmacy, [(code, 10) for code in codes])
    statements: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record):
            if isinstance(record.msg, tuple):
                statements.append(str(record.msg[0]))

    recorder, peewee_log = Recorder(level=logging.DEBUG), logging.getLogger("peewee")
    level = peewee_log.level
    peewee_log.setLevel(logging.DEBUG)
    peewee_log.addHandler(recorder)
    try:
        response = dispense(pharmacy, prescription)
    finally:
        peewee_log.removeHandler(recorder)
        peewee_log.setLevel(level)
    assert response.status_code == 201, response.get_json()

    def reads(table: str) -> int:
        return sum(1 for text in statements if text.lstrip().upper().startswith("SELECT")
                   and (f'FROM "{table}"' in text or f"FROM {table} " in text))

    assert reads("prescription_line") == 1 and reads("dispense") == 0 and reads("prescription") == 0, statements
