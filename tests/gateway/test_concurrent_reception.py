"""At the same instant: two desks opening a visit for one patient, a charge delivered twice, many tests on one visit."""

import threading

from tests.gateway.conftest import CARD_80, add_card, glucose_charge, open_visit, outbox, register, send_charge
from tests.support import bearer


def at_once(app, count: int, call) -> list:
    """Run `call(client, n)` in `count` threads released together, each with its own client."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(n):
        client = app.test_client()
        barrier.wait()
        results[n] = call(client, n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_desks_opening_a_visit_for_one_patient_get_one_visit(gateway_app, gateway):
    patient = register(gateway)
    body = {"patient_id": patient["id"], "kind": "outpatient", "department": "K01"}
    statuses = at_once(gateway_app, 6, lambda client, n: client.post("/api/v1/encounters", json=body,
                                                                     headers=bearer("cashier")).status_code)
    assert sorted(statuses) == [201, 409, 409, 409, 409, 409]
    visits = gateway.get(f"/api/v1/encounters?patient_id={patient['id']}", headers=bearer("cashier")).get_json()
    assert len(visits) == 1


def test_a_charge_delivered_twice_at_once_is_stored_and_billed_once(gateway_app, gateway):
    patient = register(gateway)
    visit = open_visit(gateway, patient["id"])
    event = glucose_charge(visit["id"], patient["id"])
    statuses = at_once(gateway_app, 4, lambda client, n: send_charge(client, event).status_code)
    assert sorted(statuses) == [200, 200, 200, 201]
    assert len(outbox(gateway, "billing.charge")) == 1


def test_many_tests_logged_on_one_visit_at_once_all_reach_the_bill(gateway_app, gateway):
    patient = register(gateway)
    add_card(gateway, patient["id"], {**CARD_80, "valid_from": "2020-01-01", "valid_to": "2099-12-31"})
    visit = open_visit(gateway, patient["id"])
    statuses = at_once(gateway_app, 8, lambda client, n: send_charge(
        client, glucose_charge(visit["id"], patient["id"], 100 + n)).status_code)
    assert statuses == [201] * 8
    charges = gateway.get(f"/api/v1/charges?encounter_id={visit['id']}", headers=bearer("finance")).get_json()
    assert len(charges) == 8 and all(c["flag"] is None for c in charges)
    assert len(outbox(gateway, "billing.charge")) == 8
