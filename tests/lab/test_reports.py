"""Reagent yield shows tests off the books; the forecast shows days of cover and tests remaining."""

from datetime import date, timedelta

from tests.lab.catalogue import HEAD, TECH, glucose_in_stock, log_test, ok

SOON = (date.today() + timedelta(days=60)).isoformat()


def a_month_of_glucose(lab):
    """One 2 000 µL lot (10 tests at 200 µL): 3 billed, 1 rerun, 1 voided, 1 QC, 1 spill, count finds 400 µL."""
    lot = glucose_in_stock(lab, ("GL2603A", 2000, SOON))[0]
    for _ in range(3):
        ok(log_test(lab), 201)
    ok(log_test(lab, is_rerun=True), 201)
    mistaken = ok(log_test(lab), 201)
    ok(lab.post(f"/api/v1/lab/test-runs/{mistaken['id']}/void", json={"reason": "Nhập nhầm"}, headers=HEAD))
    ok(lab.post("/api/v1/lab/qc-runs", json={"test_code": "GLU"}, headers=TECH), 201)
    ok(lab.post(f"/api/v1/lab/reagent-lots/{lot['id']}/wastage", json={"quantity": 200, "reason": "Đổ tràn"},
                headers=TECH), 201)
    ok(lab.post(f"/api/v1/lab/reagent-lots/{lot['id']}/counts",
                json={"counted_quantity": 400, "reason": "Kiểm kê cuối tháng"}, headers=HEAD), 201)
    return lot


def test_reagent_yield_shows_tests_done_off_the_books(lab):
    a_month_of_glucose(lab)
    report = ok(lab.get("/api/v1/lab/reports/reagent-yield", headers=HEAD))
    [glucose] = report["reagents"]
    [line] = glucose["lots"]
    assert line["lot_number"] == "GL2603A" and line["test_code"] == "GLU" and line["quantity_per_test"] == 200
    assert (line["expected_tests"], line["tests_logged"], line["tests_billed"], line["reruns"]) == (10, 4, 3, 1)
    assert (line["voided_tests"], line["qc_runs"]) == (1, 1)
    assert (line["used_by_tests"], line["used_by_reruns"], line["used_by_qc_calibration"]) == (600, 200, 200)
    assert (line["wasted"], line["counted_loss"], line["unexplained_quantity"]) == (200, 600, 400)
    assert line["unexplained_tests"] == 2 and line["on_hand"] == 400
    assert glucose["totals"]["unexplained_tests"] == 2


def test_the_yield_period_is_chosen_with_from_and_to(lab):
    a_month_of_glucose(lab)
    long_ago = ok(lab.get("/api/v1/lab/reports/reagent-yield?from=2025-01-01&to=2025-01-31", headers=HEAD))
    assert long_ago["reagents"] == [] and long_ago["from"] == "2025-01-01"
    backwards = lab.get("/api/v1/lab/reports/reagent-yield?from=2026-02-01&to=2026-01-01", headers=HEAD)
    assert backwards.status_code == 422
    assert lab.get("/api/v1/lab/reports/reagent-yield", headers=TECH).status_code == 403


def test_the_forecast_shows_days_of_cover_and_tests_remaining(lab):
    a_month_of_glucose(lab)
    forecast = ok(lab.get("/api/v1/lab/reports/forecast", headers=TECH))
    [glucose] = forecast["reagents"]
    assert glucose["usable"] == 400 and glucose["used_last_days"] == 1000 and glucose["window_days"] == 7
    assert glucose["days_of_cover"] == 2 and glucose["tests_remaining"] == {"GLU": 2}
    assert forecast["tests"] == [{"test_code": "GLU", "tests_remaining": 2, "limiting_reagent": "GLU-R1"}]
