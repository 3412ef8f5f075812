"""The lab head's screens over HTTP (fast): reagents and lots, recipes, alerts, counts and wastage, the reports with
their charts and CSV downloads; refusals explained in Vietnamese, bad input a 4xx, never a 500."""

import csv
import io
import re
import uuid
from datetime import date, timedelta

import pytest

from tests.screens.conftest import csrf_of, sign_in
from tests.support import bearer

HEAD = bearer("lab_head")
HTMX = {"HX-Request": "true"}
NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


@pytest.fixture
def head(hospital):
    """A test client signed in as the lab head, and its CSRF token."""
    client = hospital.client()
    sign_in(client, "labhead")
    return client, csrf_of(client, "/lab/")


def post(client, csrf: str, path: str, htmx: bool = True, **form):
    form.setdefault("submission_id", str(uuid.uuid4()))
    return client.post(path, data=form, headers={"X-CSRF-Token": csrf, **(HTMX if htmx else {})})


def lot_id(hospital, reagent: str, lot_number: str) -> int:
    lots = hospital.client().get(f"/api/v1/lab/reagents/{reagent}", headers=HEAD).get_json()["lots"]
    return next(lot["id"] for lot in lots if lot["lot_number"] == lot_number)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_home_page_shows_every_reagent_with_its_lots_statuses(head):
    client, _csrf = head
    page = client.get("/lab/")
    html = text(page)
    assert page.status_code == 200 and "Quản lý khoa xét nghiệm" in html
    assert 'data-reagent="HBA1C-KIT"' in html and "đang cách ly" in html  # HB2608 waits for QC release
    assert "GLU-R1" in html and "600.000 uL" in html and 'data-lot="GL2609B"' in html  # two lots of glucose


def test_only_the_lab_head_opens_the_area(hospital):
    client = hospital.client()
    sign_in(client, "labtech")
    assert client.get("/lab/").status_code == 403
    assert hospital.client().get("/lab/").status_code == 302  # not signed in: to the sign-in page


def test_receiving_a_lot_shows_it_usable_and_a_resubmitted_form_receives_once(head, hospital):
    client, csrf = head
    key = str(uuid.uuid4())
    form = {"lot_number": "GL2612C", "expires_on": NEXT_YEAR, "quantity": "100.000", "supplier": "Việt Đức",
            "submission_id": key}
    first = post(client, csrf, "/lab/reagents/GLU-R1/lots", **form)
    html = text(first)
    assert first.status_code == 200 and "stock-changed" in first.headers["HX-Trigger"]
    assert "Đã nhận lô GL2612C: 100.000 uL" in html and 'data-lot="GL2612C" data-status="usable"' in html
    again = post(client, csrf, "/lab/reagents/GLU-R1/lots", **form)
    assert again.status_code == 200 and "chỉ nhận một lần" in text(again)
    lots = hospital.client().get("/api/v1/lab/reagents/GLU-R1", headers=HEAD).get_json()["lots"]
    assert [lot["lot_number"] for lot in lots].count("GL2612C") == 1


def test_a_lot_is_quarantined_released_and_opened(head, hospital):
    client, csrf = head
    lot = lot_id(hospital, "GLU-R1", "GL2603A")
    held = post(client, csrf, f"/lab/reagents/GLU-R1/lots/{lot}/quarantine")
    assert held.status_code == 200 and 'data-lot="GL2603A" data-status="quarantined"' in text(held)
    twice = post(client, csrf, f"/lab/reagents/GLU-R1/lots/{lot}/quarantine")
    assert twice.status_code == 409 and twice.headers["HX-Retarget"] == "#outcome"
    assert "đã đang cách ly" in text(twice)
    released = post(client, csrf, f"/lab/reagents/GLU-R1/lots/{lot}/release")
    assert released.status_code == 200 and 'data-lot="GL2603A" data-status="usable"' in text(released)
    opened = post(client, csrf, f"/lab/reagents/GLU-R1/lots/{lot}/open")
    assert opened.status_code == 200 and "đồng hồ độ ổn định" in text(opened)
    quarantined_kit = lot_id(hospital, "HBA1C-KIT", "HB2608")
    refused = post(client, csrf, f"/lab/reagents/HBA1C-KIT/lots/{quarantined_kit}/open")
    assert refused.status_code == 409 and "cách ly" in text(refused)


def test_a_plain_form_post_without_htmx_comes_back_to_the_reagent_page(head, hospital):
    client, csrf = head
    lot = lot_id(hospital, "CRP-R1", "CP2607")
    answer = client.post(f"/lab/reagents/CRP-R1/lots/{lot}/quarantine",
                         data={"csrf_token": csrf, "submission_id": str(uuid.uuid4())})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/lab/reagents/CRP-R1")


def test_a_count_that_differs_from_the_book_is_a_discrepancy_and_wastage_is_listed(head, hospital):
    client, csrf = head
    lot = lot_id(hospital, "CBC-WDF", "WDF2605-03")
    counted = post(client, csrf, "/lab/lots/count", reagent="CBC-WDF", lot=str(lot), quantity="205000",
                   reason="Kiểm kê cuối tháng")
    assert counted.status_code == 200 and "sổ ghi 210.000 uL, đếm được 205.000 uL" in text(counted)
    wasted = post(client, csrf, "/lab/lots/wastage", reagent="CBC-WDF", lot=str(lot), quantity="1.000",
                  reason="Đổ vỡ khi lắp vào máy")
    assert wasted.status_code == 200 and "205.000 → 204.000 uL" in text(wasted)
    page = text(client.get("/lab/counts"))
    assert "Chênh lệch: 1" in page and "Kiểm kê cuối tháng" in page and "Đổ vỡ khi lắp vào máy" in page
    assert '<tr data-kind="count_adjustment" class="discrepancy">' in page


@pytest.mark.parametrize("form, status, said", [
    ({"lot_number": "X1", "expires_on": "2020-01-01", "quantity": "10"}, 422, None),
    ({"lot_number": "X1", "expires_on": NEXT_YEAR, "quantity": "mười"}, 422, "Hãy kiểm tra: Số lượng."),
    ({"lot_number": "X1", "expires_on": "31/12/2027", "quantity": "10"}, 422, "Hãy kiểm tra: Hạn dùng."),
    ({"lot_number": "", "expires_on": NEXT_YEAR, "quantity": "10"}, 422, "Hãy kiểm tra: Số lô."),
    ({"lot_number": "X1", "expires_on": NEXT_YEAR, "quantity": "99999999999999999"}, 422, "Hãy kiểm tra: Số lượng."),
    ({"lot_number": "GL2603A", "expires_on": NEXT_YEAR, "quantity": "10"}, 409, None),
])
def test_a_bad_lot_is_refused_above_the_form_in_vietnamese(head, form, status, said):
    client, csrf = head
    answer = post(client, csrf, "/lab/reagents/GLU-R1/lots", **form)
    assert answer.status_code == status and answer.headers["HX-Retarget"] == "#outcome"
    assert 'role="alert"' in text(answer)
    if said:  # the field as the form names it, not the API's field name
        assert "Một số ô chưa được điền đúng" in text(answer) and said in text(answer)
        assert not any(name in text(answer) for name in ("quantity", "expires_on", "lot_number"))


def test_forms_without_a_submission_number_or_a_lot_or_csrf_are_refused(head, hospital):
    client, csrf = head
    no_id = post(client, csrf, "/lab/reagents/GLU-R1/lots", submission_id="", lot_number="X", quantity="1",
                 expires_on=NEXT_YEAR)
    assert no_id.status_code == 422 and "tải lại trang" in text(no_id)
    for lot in ("", "abc", "99999999999"):
        answer = post(client, csrf, "/lab/lots/count", reagent="GLU-R1", lot=lot, quantity="1", reason="x")
        assert answer.status_code == 422, lot
    missing_lot = post(client, csrf, "/lab/lots/wastage", reagent="GLU-R1", lot="999999", quantity="1", reason="x")
    assert missing_lot.status_code == 404
    too_much = post(client, csrf, "/lab/lots/wastage", reagent="GLU-R1", lot=str(lot_id(hospital, "GLU-R1", "GL2603A")),
                    quantity="900000", reason="x")
    assert too_much.status_code == 409 and "Không đủ hàng dùng được" in text(too_much)
    forged = client.post("/lab/lots/count", data={"lot": "1", "quantity": "1", "reason": "x",
                                                   "submission_id": str(uuid.uuid4())})
    assert forged.status_code == 403
    assert client.get("/lab/reagents/NO-SUCH").status_code == 404
    assert post(client, csrf, "/lab/reagents/GLU-R1/lots/1/explode").status_code == 404
    assert post(client, csrf, "/lab/reagents/GLU-R1/lots/99999999999999/release").status_code == 404


def test_recipes_are_listed_and_a_recipe_is_replaced(head, hospital):
    client, csrf = head
    listed = text(client.get("/lab/recipes"))
    assert "CBC" in listed and "CBC-WDF" in listed and "mỗi lần chạy (thể tích chết)" in listed
    page = text(client.get("/lab/recipes/CBC"))
    assert 'id="reagent-1"' in page and page.count('name="reagent_code"') == 2 + 3
    form = {"csrf_token": csrf, "reagent_code": ["CBC-DCL", "CBC-WDF", ""], "quantity": ["45", "1.000", ""],
            "basis": ["test", "test", "test"], "analyzer_code": ["", "XN-1000", ""]}
    saved = client.post("/lab/recipes/CBC", data=form)
    assert saved.status_code == 200 and "Đã lưu công thức của CBC" in text(saved)
    recipe = hospital.client().get("/api/v1/lab/tests/CBC", headers=HEAD).get_json()["recipe"]
    assert {(line["reagent_code"], line["quantity"], line["analyzer_code"]) for line in recipe} == {
        ("CBC-DCL", 45, None), ("CBC-WDF", 1000, "XN-1000")}
    bad = client.post("/lab/recipes/CBC", data={**form, "quantity": ["bốn lăm", "1.000", ""]})
    assert bad.status_code == 422
    assert "Một số ô chưa được điền đúng. Hãy kiểm tra: Công thức › dòng 1 › Số lượng." in text(bad)
    assert 'value="bốn lăm"' in text(bad)  # the form keeps what was typed
    unknown = client.post("/lab/recipes/CBC", data={**form, "analyzer_code": ["NO-SUCH", "", ""]})
    assert unknown.status_code == 422 and 'role="alert"' in text(unknown)
    assert "Công thức › dòng 1 › Máy xét nghiệm" in text(unknown)
    assert client.get("/lab/recipes/NO-SUCH").status_code == 404
    assert client.post("/lab/recipes/NO-SUCH", data=form).status_code == 404


def test_alerts_are_listed_by_state_and_acknowledged(head, hospital):
    client, csrf = head
    level = {"reorder_level": 250_000}
    assert hospital.client().patch("/api/v1/lab/reagents/CBC-WDF", json=level, headers=HEAD).status_code == 200
    lot = lot_id(hospital, "CBC-WDF", "WDF2605-03")
    hospital.client().post(f"/api/v1/lab/reagent-lots/{lot}/wastage", json={"quantity": 1, "reason": "thử"},
                           headers={**HEAD, "Idempotency-Key": str(uuid.uuid4())})
    page = text(client.get("/lab/alerts"))
    alert = re.search(r'data-alert="(\d+)" data-state="open"', page)
    assert alert and "CBC-WDF" in page and "dưới mức đặt hàng" in page
    seen = post(client, csrf, f"/lab/alerts/{alert.group(1)}/acknowledge")
    assert seen.status_code == 200 and 'data-state="acknowledged"' in text(seen) and "labhead" in text(seen)
    again = post(client, csrf, f"/lab/alerts/{alert.group(1)}/acknowledge")
    assert again.status_code == 409 and 'role="alert"' in text(again)
    assert f'data-alert="{alert.group(1)}"' in text(client.get("/lab/alerts?state=acknowledged"))
    assert f'data-alert="{alert.group(1)}"' not in text(client.get("/lab/alerts"))
    assert client.get("/lab/alerts?state=nonsense").status_code == 200
    assert post(client, csrf, "/lab/alerts/999999/acknowledge").status_code == 404
    assert post(client, csrf, "/lab/alerts/99999999999999/acknowledge").status_code == 404


def test_the_forecast_is_drawn_and_downloads_as_csv(head):
    client, _csrf = head
    page = client.get("/lab/reports/forecast")
    html = text(page)
    assert page.status_code == 200 and html.count("<svg") == 2
    assert 'data-category="CBC"' in html and "Dự báo hết hàng" in html
    download = client.get("/lab/reports/forecast.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    glucose = next(row for row in rows if row["reagent_code"] == "GLU-R1" and row["test_code"] == "GLU")
    assert glucose["usable"] == "600000" and glucose["tests_remaining"] == "3000"  # 600 000 uL / 200 uL a test


def test_the_yield_report_is_drawn_and_downloads_as_csv_and_a_bad_period_is_a_4xx(head, hospital):
    client, csrf = head
    post(client, csrf, "/lab/lots/wastage", reagent="GLU-R1", lot=str(lot_id(hospital, "GLU-R1", "GL2603A")),
         quantity="400", reason="Đổ")
    page = client.get("/lab/reports/yield")
    assert page.status_code == 200 and "<svg" in text(page) and "GL2603A" in text(page)
    download = client.get("/lab/reports/yield.csv")
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert download.status_code == 200 and any(row["lot_number"] == "GL2603A" and row["wasted"] == "400"
                                               for row in rows)
    backwards = client.get("/lab/reports/yield?from=2026-05-01&to=2026-04-01")
    assert backwards.status_code == 422 and "Một số ô chưa được điền đúng. Hãy kiểm tra: Đến ngày." in text(backwards)
    assert client.get("/lab/reports/yield?from=hôm-qua").status_code == 422
    assert client.get("/lab/reports/yield.csv?from=hôm-qua").status_code == 422


def test_the_margin_report_shows_billed_tests_and_runs_never_billed_with_a_chart_and_csv(head, hospital):
    client, _csrf = head
    tech = bearer("lab_tech")
    for rerun in (False, True):
        run = {"encounter_id": "1", "patient_id": "1", "test_code": "GLU", "analyzer_code": "AU480",
               "is_rerun": rerun}
        logged = hospital.client().post("/api/v1/lab/test-runs", json=run,
                                        headers={**tech, "Idempotency-Key": str(uuid.uuid4())})
        assert logged.status_code == 201
    page = client.get("/lab/reports/margin")
    html = text(page)
    assert page.status_code == 200 and "Biên lợi nhuận" in html
    assert "<svg" in html and 'data-unbilled' in html and "chạy lại" in html
    download = client.get("/lab/reports/margin.csv?part=unbilled")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "run_id" in download.get_data(as_text=True).splitlines()[0]
    rows = client.get("/lab/reports/margin.csv?group=day")
    assert rows.status_code == 200 and rows.get_data(as_text=True).startswith("test_code,")
    assert client.get("/lab/reports/margin?from=2026-05-01&to=2026-04-01").status_code == 422
    assert client.get("/lab/reports/margin.csv?from=x").status_code == 422


def test_every_lab_page_answers_in_vietnamese_with_labelled_fields(head):
    client, _csrf = head
    for path in ("/lab/", "/lab/reagents/GLU-R1", "/lab/recipes", "/lab/recipes/GLU", "/lab/alerts", "/lab/counts",
                 "/lab/reports/yield", "/lab/reports/forecast", "/lab/reports/margin"):
        page = client.get(path)
        html = text(page)
        assert page.status_code == 200, path
        ids = set(re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html))
        labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
        assert ids <= labelled, (path, ids - labelled)


def test_a_reagents_settings_are_changed_and_bad_ones_refused(head, hospital):
    client, csrf = head
    form = {"csrf_token": csrf, "reorder_level": "25.000", "unit_cost_amount": "4", "stability_days_after_opening": "",
            "requires_qc_release": "on"}
    saved = client.post("/lab/reagents/UREA-R1/settings", data=form)
    assert saved.status_code == 200 and "Đã lưu cài đặt của UREA-R1" in text(saved)
    reagent = hospital.client().get("/api/v1/lab/reagents/UREA-R1", headers=HEAD).get_json()
    assert (reagent["reorder_level"], reagent["unit_cost_amount"], reagent["stability_days_after_opening"],
            reagent["requires_qc_release"]) == (25_000, 4, None, True)
    bad = client.post("/lab/reagents/UREA-R1/settings", data={**form, "reorder_level": "-1"})
    assert bad.status_code == 422 and "Một số ô chưa được điền đúng. Hãy kiểm tra: Mức đặt hàng." in text(bad)
    words = client.post("/lab/reagents/UREA-R1/settings", data={**form, "unit_cost_amount": "bốn đồng"})
    assert words.status_code == 422 and "Hãy kiểm tra: Đơn giá (đồng)." in text(words)
    assert client.post("/lab/reagents/NO-SUCH/settings", data=form).status_code == 404


def test_the_lab_pages_switch_to_english(head):
    client, _csrf = head
    client.get("/language/en")
    page = text(client.get("/lab/reagents/GLU-R1"))
    assert 'lang="en"' in page and "Receive a lot" in page and "Stock card (latest movements)" in page
    assert "Run-out forecast" in text(client.get("/lab/reports/forecast"))


def test_an_alert_reads_as_not_yet_acknowledged_and_a_lot_opens_without_saying_lot_twice(head):
    client, _ = head
    alerts = client.get("/lab/alerts").get_data(as_text=True)  # the seeded HbA1c alerts are open
    assert "Chưa xác nhận" in alerts and "Mở lô" not in alerts  # an open alert is not an "open the lot" action
    stock = client.get("/lab/reagents/CREA-R1").get_data(as_text=True)
    assert re.search(r'aria-label="Mở lô CR2605">\s*Mở lô</button>', stock)
