"""Voids put reagent back on the same lots; counts and wastage adjust the book; the ledger only grows."""

from datetime import date, timedelta

from tests.lab.catalogue import HEAD, TECH, glucose_in_stock, log_test, ok, on_hand_by_lot, stock_of

SOON = (date.today() + timedelta(days=60)).isoformat()
LATER = (date.today() + timedelta(days=300)).isoformat()


def void(client, run_id, reason="Chỉ định nhầm bệnh nhân", headers=HEAD):
    return client.post(f"/api/v1/lab/test-runs/{run_id}/void", json={"reason": reason}, headers=headers)


def test_voiding_a_split_run_puts_the_exact_quantities_back_on_the_same_lots(lab):
    glucose_in_stock(lab, ("GL2603A", 150, SOON), ("GL2611B", 5000, LATER))
    run = ok(log_test(lab), 201)
    voided = ok(void(lab, run["id"]))
    assert voided["status"] == "voided" and voided["void_reason"] == "Chỉ định nhầm bệnh nhân"
    assert on_hand_by_lot(lab) == {"GL2603A": 150, "GL2611B": 5000}
    card = ok(lab.get("/api/v1/lab/reagents/GLU-R1/ledger", headers=TECH))
    assert [(e["kind"], e["lot_number"], e["quantity"]) for e in card["entries"][2:]] == [
        ("consumption", "GL2603A", -150), ("consumption", "GL2611B", -50),
        ("void_reversal", "GL2603A", 150), ("void_reversal", "GL2611B", 50)]
    assert card["balance"] == 5150


def test_voiding_emits_a_charge_reversal(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    run = ok(log_test(lab), 201)
    ok(void(lab, run["id"]))
    keys = {m["key"]: m["event_type"] for m in ok(lab.get("/api/v1/lab/outbox", headers=HEAD))}
    assert keys == {f"lab:test-run:{run['id']}": "charge.created",
                    f"lab:test-run:{run['id']}:void": "charge.reversed"}


def test_voiding_twice_is_a_409_and_changes_nothing(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    run = ok(log_test(lab), 201)
    ok(void(lab, run["id"]))
    again = void(lab, run["id"])
    assert again.status_code == 409 and again.get_json()["code"] == "TEST_RUN_ALREADY_VOIDED"
    assert on_hand_by_lot(lab) == {"GL2603A": 5000}


def test_voiding_a_rerun_returns_reagent_without_a_charge_reversal(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    rerun = ok(log_test(lab, is_rerun=True), 201)
    ok(void(lab, rerun["id"]))
    assert ok(lab.get("/api/v1/lab/outbox", headers=HEAD)) == []
    assert on_hand_by_lot(lab) == {"GL2603A": 5000}


def test_only_the_lab_head_voids_and_a_reason_is_required(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    run = ok(log_test(lab), 201)
    assert void(lab, run["id"], headers=TECH).status_code == 403
    missing = lab.post(f"/api/v1/lab/test-runs/{run['id']}/void", json={}, headers=HEAD)
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]
    assert void(lab, 999_999).get_json()["code"] == "TEST_RUN_NOT_FOUND"


def test_a_physical_count_below_the_book_writes_an_adjustment(lab):
    lot = glucose_in_stock(lab, ("GL2603A", 5000, SOON))[0]
    count = ok(lab.post(f"/api/v1/lab/reagent-lots/{lot['id']}/counts",
                        json={"counted_quantity": 4200, "reason": "Kiểm kê cuối tháng 11"}, headers=HEAD), 201)
    assert (count["book_before"], count["quantity"], count["book_after"]) == (5000, -800, 4200)
    assert on_hand_by_lot(lab) == {"GL2603A": 4200}
    card = ok(lab.get("/api/v1/lab/reagents/GLU-R1/ledger", headers=TECH))
    assert [(e["kind"], e["quantity"], e["balance"]) for e in card["entries"]] == [
        ("receipt", 5000, 5000), ("count_adjustment", -800, 4200)]


def test_counts_are_for_the_lab_head(lab):
    lot = glucose_in_stock(lab, ("GL2603A", 5000, SOON))[0]
    response = lab.post(f"/api/v1/lab/reagent-lots/{lot['id']}/counts",
                        json={"counted_quantity": 10, "reason": "x"}, headers=TECH)
    assert response.status_code == 403
    missing = lab.post("/api/v1/lab/reagent-lots/999999/counts", json={"counted_quantity": 10, "reason": "x"},
                       headers=HEAD)
    assert missing.status_code == 404 and missing.get_json()["code"] == "LOT_NOT_FOUND"


def test_wastage_comes_off_the_lot_and_cannot_exceed_it(lab):
    lot = glucose_in_stock(lab, ("GL2603A", 5000, SOON))[0]
    wasted = ok(lab.post(f"/api/v1/lab/reagent-lots/{lot['id']}/wastage",
                         json={"quantity": 1000, "reason": "Vỡ lọ khi vận chuyển"}, headers=TECH), 201)
    assert wasted["kind"] == "wastage" and wasted["book_after"] == 4000
    too_much = lab.post(f"/api/v1/lab/reagent-lots/{lot['id']}/wastage",
                        json={"quantity": 4001, "reason": "Đổ tràn"}, headers=TECH)
    assert too_much.status_code == 409 and too_much.get_json()["code"] == "INSUFFICIENT_STOCK"
    assert stock_of(lab)["on_hand"] == 4000


def test_a_qc_run_consumes_per_level_and_is_never_billed(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    qc = ok(lab.post("/api/v1/lab/qc-runs", json={"test_code": "GLU", "kind": "qc", "levels": 2}, headers=TECH),
            201)
    assert qc["kind"] == "qc" and qc["billed"] is False and qc["consumption"][0]["quantity"] == 400
    calibration = ok(lab.post("/api/v1/lab/qc-runs", json={"test_code": "GLU", "kind": "calibration"},
                              headers=TECH), 201)
    assert calibration["consumption"][0]["quantity"] == 200
    assert ok(lab.get("/api/v1/lab/outbox", headers=HEAD)) == []
    assert on_hand_by_lot(lab) == {"GL2603A": 4400}


def test_overhead_dead_volume_daily_qc_and_lot_opening_calibration(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON), ("GL2611B", 5000, LATER))
    recipe = [{"reagent_code": "GLU-R1", "quantity": 200},
              {"reagent_code": "GLU-R1", "quantity": 20, "basis": "run"},
              {"reagent_code": "GLU-R1", "quantity": 300, "basis": "day"},
              {"reagent_code": "GLU-R1", "quantity": 500, "basis": "lot_opened"}]
    ok(lab.put("/api/v1/lab/tests/GLU/recipe", json={"recipe": recipe}, headers=HEAD))
    first = ok(log_test(lab), 201)
    second = ok(log_test(lab), 201)
    assert first["consumption"][0]["quantity"] == 200 + 20 + 300 + 500
    assert second["consumption"][0]["quantity"] == 220
    assert on_hand_by_lot(lab) == {"GL2603A": 5000 - 1020 - 220, "GL2611B": 5000}


def test_a_logged_qc_run_is_the_days_qc_so_patient_tests_skip_the_daily_overhead(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    recipe = [{"reagent_code": "GLU-R1", "quantity": 200}, {"reagent_code": "GLU-R1", "quantity": 400, "basis": "day"}]
    ok(lab.put("/api/v1/lab/tests/GLU/recipe", json={"recipe": recipe}, headers=HEAD))
    ok(lab.post("/api/v1/lab/qc-runs", json={"test_code": "GLU", "levels": 2}, headers=TECH), 201)
    assert ok(log_test(lab), 201)["consumption"][0]["quantity"] == 200
    assert on_hand_by_lot(lab) == {"GL2603A": 5000 - 400 - 200}


def test_the_stock_card_shows_the_latest_rows_with_the_true_running_balance(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    for _ in range(3):
        ok(log_test(lab), 201)
    card = ok(lab.get("/api/v1/lab/reagents/GLU-R1/ledger?limit=2", headers=TECH))
    assert [(e["kind"], e["quantity"], e["balance"]) for e in card["entries"]] == [
        ("consumption", -200, 4600), ("consumption", -200, 4400)]
    assert card["balance"] == 4400
