"""What a logged test tells billing for the claim: the unit name, who ordered and ran it, the reagent lots used."""

import json

from tests.lab.catalogue import GLUCOSE_TEST, TECH, add_test, glucose_in_stock, log_test, ok


def charges_queued(client) -> list[dict]:
    from lab_service.models import OutboxMessage

    with client.application.app_context():
        rows = OutboxMessage.select().where(OutboxMessage.event_type == "charge.created").order_by(OutboxMessage.id)
        return [json.loads(row.payload) for row in rows]


def test_a_test_is_charged_in_the_unit_its_catalogue_entry_names(lab):
    glucose_in_stock(lab, ("GL2603A", 50_000, "2027-06-30"))

    ok(log_test(lab), 201)

    [charge] = charges_queued(lab)
    assert charge["unit"] == "Lần"


def test_who_ordered_and_who_ran_the_test_and_the_lots_it_used_travel_with_the_charge(lab):
    glucose_in_stock(lab, ("GL2603A", 50_000, "2027-06-30"))

    run = ok(log_test(lab, ordered_by_id="7", performed_by_id="9"), 201)

    [charge] = charges_queued(lab)
    assert (charge["ordered_by_id"], charge["performed_by_id"]) == ("7", "9")
    assert (run["ordered_by_id"], run["performed_by_id"]) == ("7", "9")
    assert [(lot["reagent_code"], lot["lot_number"]) for lot in charge["details"]["reagent_lots"]] == [
        ("GLU-R1", "GL2603A")]
    assert charge["details"]["reagent_lots"][0]["quantity"] == run["consumption"][0]["quantity"]


def test_a_test_sold_by_another_unit_keeps_the_unit_of_its_catalogue_entry(lab):
    add_test(lab, {**GLUCOSE_TEST, "code": "GLU-POCT", "recipe": []}, unit_name="Test")

    listed = ok(lab.get("/api/v1/lab/tests/GLU-POCT", headers=TECH))

    assert listed["unit_name"] == "Test"
