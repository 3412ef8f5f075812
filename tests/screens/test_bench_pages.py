"""The lab bench over HTTP (fast): looking up a scanned visit, logging a run once, stops, refusals explained."""

import re
import uuid

import pytest

from seeds.demo_visits import CLOSED_VISITS, OPEN_VISITS
from tests.screens.conftest import csrf_of, sign_in
from tests.support import bearer

TECH = bearer("lab_tech")


def signed_in_technician(hospital):
    client = hospital.client()
    sign_in(client, "labtech")
    return client, csrf_of(client, "/bench/")


def log(client, csrf: str, visit: str, test: str, submission_id: str | None = None, **fields):
    form = {"visit": visit, "test": test, "analyzer": "AU480", "submission_id": submission_id or str(uuid.uuid4())}
    return client.post("/bench/runs", data={**form, **fields}, headers={"X-CSRF-Token": csrf, "HX-Request": "true"})


def runs(hospital) -> list[dict]:
    return hospital.client().get("/api/v1/lab/test-runs", headers=TECH).get_json()


def test_the_seeded_worklist_points_at_open_visits_of_the_right_patients(hospital):
    gateway = hospital.client()
    orders = gateway.get("/api/v1/lab/worklist", headers=TECH).get_json()
    assert len(orders) == 6
    for order in orders:
        visit = gateway.get(f"/api/v1/encounters/{order['encounter_id']}", headers=TECH).get_json()
        assert visit["patient_id"] == order["patient_id"], order
    open_ones = {(o["encounter_id"], o["patient_id"]) for o in orders} - {v[::-1] for v in CLOSED_VISITS.values()}
    assert open_ones <= {(visit, patient) for patient, visit in OPEN_VISITS.values()}


def test_a_scanned_visit_shows_its_patient_and_waiting_tests(hospital):
    client, _csrf = signed_in_technician(hospital)
    shown = client.get("/bench/visit?visit=0001", headers={"HX-Request": "true"})
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Nguyễn Văn An" in page and "14/03/1988" in page
    assert "DN4010123456789" in page and "GLU" in page and "HBA1C" in page


def test_an_unknown_visit_is_stopped_at_the_bench_and_nothing_is_logged(hospital):
    client, csrf = signed_in_technician(hospital)
    looked_up = client.get("/bench/visit?visit=999", headers={"HX-Request": "true"})
    assert looked_up.status_code == 404 and "Lượt khám 999 không tồn tại" in looked_up.get_data(as_text=True)
    not_a_number = client.get("/bench/visit?visit=ENC-2026-000101", headers={"HX-Request": "true"})
    assert not_a_number.status_code == 404 and "không phải số lượt khám" in not_a_number.get_data(as_text=True)
    assert log(client, csrf, "999", "GLU").status_code == 404
    assert runs(hospital) == []


def test_a_closed_visit_is_stopped_at_the_bench_and_nothing_is_logged(hospital):
    client, csrf = signed_in_technician(hospital)
    _patient, closed = CLOSED_VISITS["Phạm Thị Dung"]
    looked_up = client.get(f"/bench/visit?visit={closed}", headers={"HX-Request": "true"})
    assert looked_up.status_code == 409 and f"Lượt khám {closed} đã đóng lúc" in looked_up.get_data(as_text=True)
    assert log(client, csrf, closed, "CRP").status_code == 409
    assert runs(hospital) == []


def test_a_run_shows_what_it_used_per_lot_and_a_resubmitted_form_logs_once(hospital):
    client, csrf = signed_in_technician(hospital)
    submission = str(uuid.uuid4())
    first = log(client, csrf, "1", "glu", submission)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "stock-changed" in first.headers["HX-Trigger"]
    assert "GL2603A" in page and "1.220 uL" in page and "21.500\u00a0₫" in page
    again = log(client, csrf, "1", "2345-7", submission)  # the same form, the test scanned by its LOINC
    assert again.status_code == 200 and "không ghi hai lần" in again.get_data(as_text=True)
    [run] = runs(hospital)
    assert (run["encounter_id"], run["patient_id"], run["test_code"]) == ("1", "1", "GLU")


def test_a_test_ordered_for_another_patient_needs_an_explicit_confirmation(hospital):
    client, csrf = signed_in_technician(hospital)
    misfiled = {"encounter_id": "3", "patient_id": "2", "test_code": "UREA"}  # visit 3 is Trần Thị Bích's
    assert hospital.client().post("/api/v1/lab/worklist", json=misfiled, headers=TECH).status_code == 201
    submission = str(uuid.uuid4())
    asked = log(client, csrf, "3", "UREA", submission)
    assert asked.status_code == 409 and "Vẫn ghi" in asked.get_data(as_text=True)
    assert runs(hospital) == []
    confirmed = log(client, csrf, "3", "UREA", submission, confirmed="yes")
    assert confirmed.status_code == 200
    [run] = runs(hospital)
    assert (run["encounter_id"], run["patient_id"]) == ("3", "3")  # the visit's own patient


def test_insufficient_stock_names_the_short_reagent_and_why_its_lot_is_not_usable(hospital):
    client, csrf = signed_in_technician(hospital)
    refused = log(client, csrf, "1", "HBA1C")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "không đủ hóa chất dùng được" in text
    assert re.search(r"HBA1C-KIT\): lần chạy này cần 1 test, chỉ còn 0 test dùng được", text)
    assert "Lô HB2608" in text and "đang cách ly chờ QC cho phép" in text
    assert runs(hospital) == []


def test_a_form_without_its_submission_id_is_refused(hospital):
    client, csrf = signed_in_technician(hospital)
    assert log(client, csrf, "1", "GLU", submission_id="not-a-uuid").status_code == 422
    assert runs(hospital) == []


def test_the_banner_shows_stock_and_open_alerts_in_vietnamese(hospital):
    client, _csrf = signed_in_technician(hospital)
    banner = client.get("/bench/banner").get_data(as_text=True)
    assert "HBA1C-KIT" in banner and "dưới mức đặt hàng 50 test" in banner
    assert "lô AL2512 hết hạn ngày" in banner and "600.000 uL" in banner


def test_another_refusal_is_explained_in_words(hospital):
    client, csrf = signed_in_technician(hospital)
    refused = log(client, csrf, "1", "NOPE")
    assert refused.status_code == 404 and "Không có xét nghiệm với mã này" in refused.get_data(as_text=True)


def test_a_scan_sent_before_the_page_script_loaded_still_opens_the_visit(hospital):
    client, _csrf = signed_in_technician(hospital)
    found = client.get("/bench/?visit=1").get_data(as_text=True)
    assert 'id="run-form"' in found and "Nguyễn Văn An" in found
    stopped = client.get("/bench/?visit=4")
    assert stopped.status_code == 409 and "đã đóng lúc" in stopped.get_data(as_text=True)


def test_the_banner_writes_a_long_days_of_cover_with_thousands_dots(hospital):
    client, csrf = signed_in_technician(hospital)
    assert log(client, csrf, "1", "GLU").status_code == 200  # one run a week: years of glucose reagent left
    banner = client.get("/bench/banner").get_data(as_text=True)
    days = re.search(r'data-reagent="GLU-R1".*?<small>([\d.]+) ngày</small>', banner, re.S).group(1)
    assert re.fullmatch(r"\d{1,3}(\.\d{3})+", days), days


def log_qc(client, csrf: str, test: str, submission_id: str | None = None, **fields):
    form = {"test": test, "analyzer": "AU480", "kind": "qc", "levels": "2",
            "submission_id": submission_id or str(uuid.uuid4()), **fields}
    return client.post("/bench/qc-runs", data=form, headers={"X-CSRF-Token": csrf, "HX-Request": "true"})


def on_hand(hospital, reagent: str) -> int:
    return hospital.client().get(f"/api/v1/lab/reagents/{reagent}", headers=TECH).get_json()["on_hand"]


def test_the_bench_has_a_qc_form_reached_by_f2(hospital):
    client, _csrf = signed_in_technician(hospital)
    page = client.get("/bench/").get_data(as_text=True)
    assert 'id="qc-form"' in page and 'data-shortcut="F2"' in page and "Ghi lần chạy QC hoặc hiệu chuẩn" in page
    assert 'id="qc-test-codes"' in page and '<option value="COBAS-C311">' in page
    assert re.search(r'id="qc-levels"[^>]*value="2"', page)


def test_a_qc_run_shows_what_it_used_per_lot_and_a_resubmitted_form_logs_once(hospital):
    client, csrf = signed_in_technician(hospital)
    submission = str(uuid.uuid4())
    first = log_qc(client, csrf, "glu", submission)  # on AU480: 2 levels × 200 uL plus 20 uL of dead volume
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and first.headers["HX-Trigger"] == "stock-changed, qc-logged"
    assert "Đã ghi lần chạy QC" in page and "AU480, 2 mức" in page and "Không tính phí" in page
    assert re.search(r'data-reagent="GLU-R1".*?GL2603A.*?420 uL', page, re.S)
    again = log_qc(client, csrf, "2345-7", submission)  # the same form, the test scanned by its LOINC
    assert again.status_code == 200 and "không ghi hai lần" in again.get_data(as_text=True)
    assert on_hand(hospital, "GLU-R1") == 600_000 - 420
    calibration = log_qc(client, csrf, "CREA", kind="calibration", levels="3", analyzer="")
    assert calibration.status_code == 200 and "Đã ghi hiệu chuẩn" in calibration.get_data(as_text=True)
    assert on_hand(hospital, "CREA-R1") == 150_000 - 3 * 150  # no analyzer: the default recipe, no dead volume
    assert [(run["kind"], run["test_code"], run["billed"]) for run in runs(hospital)] == [
        ("calibration", "CREA", False), ("qc", "GLU", False)]


@pytest.mark.parametrize("fields, status, said", [
    ({"test": "NOPE"}, 404, "Không có xét nghiệm với mã này"),
    ({"analyzer": "AU5800"}, 404, "Không có máy xét nghiệm với mã này"),
    ({"levels": "7"}, 422, "Hãy kiểm tra: Số mức"),  # the field by its label, not the API's "levels"
    ({"levels": "hai"}, 422, "Hãy kiểm tra: Số mức"),
    ({"kind": "patient"}, 422, "Hãy kiểm tra: Loại"),
    ({"submission_id": "not-a-uuid"}, 422, "tải lại trang"),
])
def test_a_refused_qc_run_is_explained_and_takes_nothing(hospital, fields, status, said):
    client, csrf = signed_in_technician(hospital)
    refused = log_qc(client, csrf, fields.pop("test", "GLU"), **fields)
    assert refused.status_code == status and said in refused.get_data(as_text=True)
    assert 'role="alert"' in refused.get_data(as_text=True)
    assert on_hand(hospital, "GLU-R1") == 600_000


def test_a_qc_run_short_of_reagent_names_the_lot_that_is_not_usable(hospital):
    client, csrf = signed_in_technician(hospital)
    refused = log_qc(client, csrf, "HBA1C", analyzer="")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "không đủ hóa chất dùng được" in text and "Lô HB2608" in text
