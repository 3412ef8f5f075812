"""The demo lab loads a realistic bench: reagents with lots, analyzers, tests with recipes, a worklist."""

from seeds import seed_service
from tests.lab.catalogue import HEAD, TECH, ok


def test_the_demo_lab_is_ready_to_log_a_glucose_test(lab_app):
    with lab_app.app_context():
        assert seed_service("lab_service") is True
        assert seed_service("lab_service") is False
    lab = lab_app.test_client()
    assert len(ok(lab.get("/api/v1/lab/reagents", headers=TECH))) == 9
    glucose = ok(lab.get("/api/v1/lab/tests/GLU", headers=TECH))
    assert (glucose["loinc"], glucose["service_code"], glucose["price_amount"]) == ("2345-7", "23.0075.1494", 21_500)
    alerts = ok(lab.get("/api/v1/lab/alerts", headers=HEAD))
    assert ("lot_expiring", "AL2512") in {(a["kind"], a["lot_number"]) for a in alerts}
    run = ok(lab.post("/api/v1/lab/test-runs", json={"encounter_id": "1", "patient_id": "1",
                                                     "test_code": "GLU", "analyzer_code": "AU480"}, headers=TECH), 201)
    assert run["consumption"] == [{"reagent_code": "GLU-R1", "lot_number": "GL2603A", "quantity": 200 + 20 + 400 + 600,
                                   "cost_amount": 3660}]
    assert ok(lab.get("/api/v1/lab/worklist", headers=TECH))[0]["test_code"] == "HBA1C"
