"""The demo has patients to check in by CCCD, with cards and open visits to log tests and dispenses against."""

from seeds import seed_service
from tests.support import bearer


def test_demo_patients_are_found_by_cccd_with_their_card_and_open_visit(gateway_app, gateway):
    with gateway_app.app_context():
        assert seed_service("gateway") is True
        assert seed_service("gateway") is False
    [an] = gateway.get("/api/v1/patients?cccd=001088012345", headers=bearer("cashier")).get_json()
    assert an["full_name"] == "Nguyễn Văn An" and an["current_coverage"]["benefit_level"] == 80
    assert an["open_encounter_id"] is not None
    open_visits = gateway.get("/api/v1/encounters?status=open", headers=bearer("lab_tech")).get_json()
    assert len(open_visits) == 4
    assert {v["kind"] for v in open_visits} == {"outpatient", "inpatient"}
    assert gateway.post("/api/v1/auth/token", json={"username": "cashier", "password": "demo"}).status_code == 200
