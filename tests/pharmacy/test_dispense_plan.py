"""The dispense plan: the FEFO lots a dispense would take, shown before it is confirmed, and the counter's queue."""

from tests.pharmacy.conftest import (
    PHARMACIST,
    add_drug,
    dispense,
    let_lot_expire,
    lots_on_hand,
    prescribe,
    receive,
)


def plan(client, prescription_id: int, *lines: str):
    query = "&".join(f"line={line}" for line in lines)
    return client.get(f"/api/v1/pharmacy/prescriptions/{prescription_id}/dispense-plan?{query}", headers=PHARMACIST)


def test_the_plan_names_the_lots_the_dispense_then_takes_and_every_lot_with_its_condition(pharmacy_app, pharmacy):
    paracetamol = add_drug(pharmacy, "paracetamol")["code"]
    expired = receive(pharmacy, paracetamol, "PCM2501X", expires_in_days=30, quantity=50)
    let_lot_expire(pharmacy_app, expired["id"])
    quarantined = receive(pharmacy, paracetamol, "PCM2602Q", expires_in_days=60, quantity=50)
    pharmacy.post(f"/api/v1/pharmacy/lots/{quarantined['id']}/quarantine", json={"reason": "Viên bị ẩm, chờ kiểm"},
                  headers=PHARMACIST)
    receive(pharmacy, paracetamol, "PCM2606A", expires_in_days=150, quantity=15)
    receive(pharmacy, paracetamol, "PCM2712G", expires_in_days=500, quantity=50)
    prescription = prescribe(pharmacy, [(paracetamol, 20)])

    planned = plan(pharmacy, prescription["id"])

    assert planned.status_code == 200, planned.get_json()
    [line] = planned.get_json()["lines"]
    assert (line["requested"], line["served"], line["unmet"], line["usable"]) == (20, 20, 0, 65)
    assert [(pick["lot_number"], pick["quantity"]) for pick in line["picks"]] == [("PCM2606A", 15), ("PCM2712G", 5)]
    assert [(lot["lot_number"], lot["condition"], lot["planned"]) for lot in line["lots"]] == [
        ("PCM2501X", "expired", 0), ("PCM2602Q", "quarantined", 0), ("PCM2606A", "usable", 15),
        ("PCM2712G", "usable", 5)]
    assert lots_on_hand(pharmacy, paracetamol)["PCM2606A"] == 15  # nothing taken
    taken = dispense(pharmacy, prescription).get_json()["lines"][0]["lots"]
    assert [(lot["lot_number"], lot["quantity"]) for lot in taken] == [("PCM2606A", 15), ("PCM2712G", 5)]


def test_a_short_plan_says_what_the_usable_lots_give_and_the_remainder_stays_open(pharmacy):
    ceftriaxone = add_drug(pharmacy, "ceftriaxone")["code"]
    receive(pharmacy, ceftriaxone, "CEF2607A", expires_in_days=200, quantity=6)
    prescription = prescribe(pharmacy, [(ceftriaxone, 14)])

    [line] = plan(pharmacy, prescription["id"]).get_json()["lines"]
    assert (line["served"], line["unmet"]) == (6, 8)
    assert dispense(pharmacy, prescription, [6]).status_code == 201

    listed = pharmacy.get("/api/v1/pharmacy/prescriptions?state=open&order=oldest", headers=PHARMACIST).get_json()
    assert [(p["id"], p["status"]) for p in listed] == [(prescription["id"], "partially_dispensed")]
    [line] = plan(pharmacy, prescription["id"]).get_json()["lines"]
    assert (line["remaining"], line["requested"], line["served"], line["unmet"]) == (8, 8, 0, 8)


def test_a_plan_past_the_prescription_or_of_a_line_not_on_it_is_refused(pharmacy):
    amoxicillin = add_drug(pharmacy, "amoxicillin")["code"]
    receive(pharmacy, amoxicillin, "AMX2611B", expires_in_days=400, quantity=100)
    prescription = prescribe(pharmacy, [(amoxicillin, 21)])
    line_id = prescription["lines"][0]["id"]

    too_many = plan(pharmacy, prescription["id"], f"{line_id}:22")
    assert too_many.status_code == 422 and too_many.get_json()["code"] == "EXCEEDS_PRESCRIPTION"
    assert plan(pharmacy, prescription["id"], f"{line_id + 99}:1").get_json()["code"] == "UNKNOWN_LINE"
    assert plan(pharmacy, prescription["id"], "x:1").status_code == 422
    assert plan(pharmacy, prescription["id"] + 99).status_code == 404
    [line] = plan(pharmacy, prescription["id"], f"{line_id}:7").get_json()["lines"]
    assert [(pick["lot_number"], pick["quantity"]) for pick in line["picks"]] == [("AMX2611B", 7)]


def test_the_queue_lists_open_prescriptions_oldest_first(pharmacy):
    amoxicillin = add_drug(pharmacy, "amoxicillin")["code"]
    receive(pharmacy, amoxicillin, "AMX2611B", expires_in_days=400, quantity=100)
    first, second, third = (prescribe(pharmacy, [(amoxicillin, 10)], encounter_id=str(n)) for n in (1, 2, 3))
    assert dispense(pharmacy, second).status_code == 201

    listed = pharmacy.get("/api/v1/pharmacy/prescriptions?state=open&order=oldest", headers=PHARMACIST).get_json()
    assert [p["id"] for p in listed] == [first["id"], third["id"]]
    newest = pharmacy.get("/api/v1/pharmacy/prescriptions", headers=PHARMACIST).get_json()
    assert [p["id"] for p in newest] == [third["id"], second["id"], first["id"]]
