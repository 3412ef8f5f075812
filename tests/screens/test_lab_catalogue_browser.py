"""Setting up a new test in a real browser (Debian's Chromium), by keyboard, against live services on this run's
databases: the lab head adds a reagent, receives its first lot, adds a test and gives its recipe; the technician
logs that test and a QC run at the bench and sees the reagent's stock go down. Refusals: a code already in the
catalogue, a bad LOINC, each said in Vietnamese in the form, what was typed kept, never a 500."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.screens.browser import UNLABELLED, press_on, scan, sign_in_by_keyboard
from tests.support import bearer

TECH = bearer("lab_tech")


def type_fields(page: Page, *values: str) -> None:
    """Type into the focused field and the next ones, Tab between them (Chromium selects a field's text on Tab, so
    typing replaces a proposed value)."""
    for index, value in enumerate(values):
        if index:
            page.keyboard.press("Tab")
        if value is not None:
            page.keyboard.type(value)


@pytest.fixture
def office(hospital, page: Page):
    """A browser page signed in as the lab head, on the lab's home page."""
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, hospital.url, "labhead", start="/", lands_on="/lab/")
    return page


def test_a_new_reagent_and_test_are_set_up_then_logged_and_qc_run_at_the_bench(hospital, office, artifacts):
    press_on(office, office.get_by_role("link", name="Danh mục", exact=True))
    expect(office.get_by_role("heading", name="Thêm hóa chất")).to_be_visible()
    expect(office.get_by_role("textbox", name="Mã", exact=True)).to_be_focused()
    assert office.evaluate(UNLABELLED) == []
    type_fields(office, "CA-R1", "Calcium Arsenazo III (OSR60117)", "Beckman Coulter", "uL", "12.000", "7", "30")
    office.keyboard.press("Enter")
    expect(office.locator("[data-notice]")).to_contain_text("Đã thêm hóa chất CA-R1 vào danh mục")
    expect(office.locator("tr.added[data-code='CA-R1']")).to_contain_text("12.000 uL")
    office.screenshot(path=artifacts / "lab-catalogue-reagent-added.png", full_page=True)

    press_on(office, office.get_by_role("link", name="Nhận lô đầu tiên"))
    expect(office.get_by_role("heading", name=re.compile("^CA-R1"))).to_be_visible()
    office.get_by_label("Số lô").focus()
    office.keyboard.type("CA2611A")
    expires = date.today() + timedelta(days=300)
    office.get_by_label("Hạn dùng").fill(expires.isoformat())
    office.get_by_label("Số lượng (uL)").focus()
    type_fields(office, "60.000", None, "Công ty TNHH Thiết bị Y tế Việt Đức")
    office.keyboard.press("Enter")
    expect(office.locator("#stock [data-notice]")).to_contain_text("Đã nhận lô CA2611A: 60.000 uL, dùng được")

    press_on(office, office.get_by_role("link", name="Danh mục", exact=True))
    press_on(office, office.get_by_role("link", name="Xét nghiệm", exact=True))
    expect(office.get_by_role("heading", name="Thêm xét nghiệm")).to_be_visible()
    expect(office.get_by_role("textbox", name="Mã", exact=True)).to_be_focused()
    type_fields(office, "CA", "Định lượng Calci toàn phần [Máu]", "17861-6", "23.0029.1473", "12.900", "12.900")
    expect(office.get_by_label("Đơn vị tính trên hồ sơ BHYT")).to_have_value("Lần")
    expect(office.get_by_label("BHYT chi trả")).to_be_checked()
    office.keyboard.press("Enter")

    expect(office).to_have_url(re.compile(r"/lab/recipes/CA\?added=1$"))
    expect(office.locator("[data-notice]")).to_contain_text("Đã thêm xét nghiệm CA vào danh mục")
    expect(office.locator("[data-no-recipe]")).to_be_visible()
    office.get_by_label("Hóa chất của dòng 1").select_option("CA-R1")
    office.get_by_label("Số lượng của dòng 1").focus()
    office.keyboard.type("100")
    office.keyboard.press("Enter")
    expect(office.locator("[data-notice]")).to_contain_text("Đã lưu công thức của CA")
    expect(office.locator("[data-no-recipe]")).to_have_count(0)
    office.screenshot(path=artifacts / "lab-catalogue-recipe-of-new-test.png", full_page=True)

    office.get_by_role("button", name="Đăng xuất").focus()
    office.keyboard.press("Enter")
    expect(office.get_by_role("status")).to_contain_text("Bạn đã đăng xuất")
    bench = office
    sign_in_by_keyboard(bench, hospital.url, "labtech", start="/", lands_on="/bench/")
    stock = bench.locator("#banner li[data-reagent='CA-R1'] [data-usable]")
    expect(stock).to_have_text("60.000 uL")
    scan(bench, "1")  # the visit's label
    expect(bench.get_by_label("Xét nghiệm (quét hoặc gõ mã)")).to_be_focused()
    scan(bench, "17861-6")  # the tube's test, by its LOINC
    logged = bench.locator("#run-result [data-logged]")
    expect(logged).to_contain_text("Định lượng Calci toàn phần [Máu]")
    expect(logged).to_contain_text("Đã tính phí 12.900 ₫")
    expect(logged.locator("tbody tr")).to_have_text(re.compile(r"CA-R1.*CA2611A\s+100 uL", re.S))
    expect(stock).to_have_text("59.900 uL")

    bench.keyboard.press("F2")
    expect(bench.get_by_label("Xét nghiệm chạy QC (F2; quét hoặc gõ mã)")).to_be_focused()
    bench.keyboard.type("CA")
    bench.keyboard.press("Enter")  # two control levels, as the form proposes
    qc = bench.locator("#qc-result [data-qc-logged]")
    expect(qc).to_contain_text("Đã ghi lần chạy QC")
    expect(qc).to_contain_text("2 mức")
    expect(qc.locator("tbody tr")).to_have_text(re.compile(r"CA-R1.*CA2611A\s+200 uL", re.S))
    expect(stock).to_have_text("59.700 uL")
    expect(bench.get_by_label("Xét nghiệm chạy QC (F2; quét hoặc gõ mã)")).to_be_focused()  # ready for the next
    expect(bench.get_by_label("Xét nghiệm chạy QC (F2; quét hoặc gõ mã)")).to_have_value("")
    assert bench.evaluate(UNLABELLED) == []
    bench.screenshot(path=artifacts / "bench-qc-run-logged.png", full_page=True)
    reagent = hospital.client().get("/api/v1/lab/reagents/CA-R1", headers=TECH).get_json()
    assert reagent["on_hand"] == 60_000 - 100 - 200
    runs = hospital.client().get("/api/v1/lab/test-runs?test_code=CA", headers=TECH).get_json()
    assert [(run["kind"], run["billed"]) for run in runs] == [("qc", False), ("patient", True)]


def test_a_code_already_in_the_catalogue_and_a_bad_loinc_are_said_in_the_form(hospital, office, artifacts):
    press_on(office, office.get_by_role("link", name="Danh mục", exact=True))
    expect(office.get_by_role("heading", name="Thêm hóa chất")).to_be_visible()
    expect(office.get_by_role("textbox", name="Mã", exact=True)).to_be_focused()
    type_fields(office, "GLU-R1", "Glucose Hexokinase (OSR6221)", "Beckman Coulter", "uL", "20.000")
    office.keyboard.press("Enter")
    refusal = office.locator("[data-refusal]")
    expect(refusal).to_contain_text("Mã hóa chất này đã có trong danh mục; hãy chọn mã khác.")
    code = office.get_by_role("textbox", name="Mã", exact=True)
    expect(code).to_be_focused()
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(office.get_by_label("Tên hóa chất")).to_have_value("Glucose Hexokinase (OSR6221)")
    expect(refusal.get_by_role("link", name="Mở hóa chất GLU-R1")).to_be_visible()
    office.screenshot(path=artifacts / "lab-catalogue-code-exists.png", full_page=True)
    office.keyboard.type("GLU-R2")
    office.keyboard.press("Enter")
    expect(office.locator("[data-notice]")).to_contain_text("Đã thêm hóa chất GLU-R2 vào danh mục")

    press_on(office, office.get_by_role("link", name="Xét nghiệm", exact=True))
    expect(office.get_by_role("heading", name="Thêm xét nghiệm")).to_be_visible()
    expect(office.get_by_role("textbox", name="Mã", exact=True)).to_be_focused()
    type_fields(office, "PHOS", "Định lượng Phospho [Máu]", "2777", "23.0130.1500", "21.500", "21.500")
    office.keyboard.press("Enter")
    expect(office.locator("[data-refusal]")).to_contain_text("Một số ô chưa được điền đúng")
    loinc = office.get_by_label("Mã LOINC")
    expect(loinc).to_be_focused()
    expect(loinc).to_have_attribute("aria-invalid", "true")
    expect(office.locator("#tests-loinc-hint")).to_contain_text("Chưa được chấp nhận: Các chữ số, dấu gạch ngang")
    expect(office.get_by_label("Mã dịch vụ BHYT")).to_have_value("23.0130.1500")
    office.screenshot(path=artifacts / "lab-catalogue-bad-loinc.png", full_page=True)
    office.keyboard.type("2777-1")
    office.keyboard.press("Enter")
    expect(office).to_have_url(re.compile(r"/lab/recipes/PHOS\?added=1$"))


def test_a_long_list_shows_more_rows_in_place(hospital, office, monkeypatch):
    from gateway.screens.lab import catalogue

    monkeypatch.setattr(catalogue, "PAGE_SIZE", 4)
    press_on(office, office.get_by_role("link", name="Danh mục", exact=True))
    expect(office.get_by_role("heading", name="Thêm hóa chất")).to_be_visible()
    rows = office.locator("table[data-list='reagents'] tbody tr[data-code]")
    expect(rows).to_have_count(4)
    office.evaluate("window.sameDocument = true")
    press_on(office, office.get_by_role("link", name="Xem thêm"))
    expect(rows).to_have_count(8)
    press_on(office, office.get_by_role("link", name="Xem thêm"))
    expect(rows).to_have_count(9)
    expect(office.get_by_role("link", name="Xem thêm")).to_have_count(0)
    assert office.evaluate("window.sameDocument") is True
