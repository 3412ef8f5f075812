"""The lab head's margin report when things go wrong: billing down, charges that never reached a bill, QC overhead."""

import pytest

from tests.lab.catalogue import HEAD, TECH, glucose_in_stock, log_test, ok


@pytest.fixture
def billing_up(make_app, live_server):
    """The real billing service on its port, with no bill yet (the gateway never forwarded anything)."""
    live_server(make_app("billing_service"))


def margin(client, query: str = ""):
    return client.get(f"/api/v1/lab/reports/margin{query}", headers=HEAD)


def test_without_billing_the_margin_is_refused_rather_than_shown_without_revenue(lab):
    glucose_in_stock(lab, ("GL2603A", 50_000, "2027-06-30"))
    ok(log_test(lab), 201)

    response = margin(lab)

    assert response.status_code == 503
    assert response.get_json()["code"] == "BILLING_UNAVAILABLE"


def test_a_test_whose_charge_never_reached_a_bill_is_listed_with_the_reagent_it_used(lab, billing_up):
    glucose_in_stock(lab, ("GL2603A", 50_000, "2027-06-30"))
    run = ok(log_test(lab), 201)

    report = ok(margin(lab))

    assert report["rows"] == []
    [unbilled] = report["unbilled_runs"]
    assert (unbilled["run_id"], unbilled["reason"], unbilled["url"]) == (run["id"], "charge_not_billed",
                                                                       f"/api/v1/lab/test-runs/{run['id']}")
    assert [(r["lot_number"], r["quantity"]) for r in unbilled["reagents"]] == [
        (c["lot_number"], c["quantity"]) for c in run["consumption"]]
    [overhead] = report["overhead"]
    assert (overhead["unbilled_runs"], overhead["unbilled_cost_amount"]) == (1, run["cost_amount"])


def test_a_voided_test_gave_its_reagent_back_and_is_not_listed(lab, billing_up):
    glucose_in_stock(lab, ("GL2603A", 50_000, "2027-06-30"))
    run = ok(log_test(lab), 201)
    ok(lab.post(f"/api/v1/lab/test-runs/{run['id']}/void", json={"reason": "Mẫu đông, lấy lại mẫu"}, headers=HEAD))

    assert ok(margin(lab))["unbilled_runs"] == []


def test_qc_runs_are_the_lab_s_overhead_beside_the_margin(lab, billing_up):
    glucose_in_stock(lab, ("GL2603A", 50_000, "2027-06-30"))
    qc = ok(lab.post("/api/v1/lab/qc-runs", json={"test_code": "GLU", "levels": 2}, headers=TECH), 201)

    [overhead] = ok(margin(lab, "?group=day"))["overhead"]

    assert (overhead["qc_runs"], overhead["qc_cost_amount"]) == (1, qc["cost_amount"])
    assert len(overhead["period"]) == 10  # a day: YYYY-MM-DD


def test_a_window_ending_before_it_starts_is_refused(lab):
    response = margin(lab, "?from=2026-11-30&to=2026-11-01")

    assert response.status_code == 422
