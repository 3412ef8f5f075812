"""The lab head's office in a real browser (Debian's Chromium), by keyboard, against live services on this run's
databases: receive a lot, quarantine and release it, open the run-out forecast chart and download its CSV."""

import csv
import io
import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.screens.browser import UNLABELLED, press_on, sign_in_by_keyboard
from tests.support import bearer

HEAD = bearer("lab_head")


@pytest.fixture
def office(hospital, page: Page):
    """A browser page signed in as the lab head, by keyboard, on the lab's home page."""
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, hospital.url, "labhead", start="/", lands_on="/lab/")
    return page


def lot_row(page: Page, lot_number: str):
    return page.locator(f"#stock tr[data-lot='{lot_number}']")


def test_the_lab_head_receives_quarantines_and_releases_a_lot_then_downloads_the_forecast(hospital, office,
                                                                                       artifacts):
    expect(office.get_by_role("heading", name="Hóa chất và lô")).to_be_visible()
    expect(office.locator("tr[data-reagent='HBA1C-KIT']")).to_contain_text("đang cách ly")
    office.screenshot(path=artifacts / "lab-home.png", full_page=True)
    press_on(office, office.get_by_role("link", name="CRP-R1"))
    expect(office.get_by_role("heading", name=re.compile("^CRP-R1"))).to_be_visible()
    assert office.evaluate(UNLABELLED) == []
    office.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    office.get_by_label("Số lô").focus()
    office.keyboard.type("CP2612B")
    office.keyboard.press("Tab")
    expires = date.today() + timedelta(days=400)
    office.get_by_label("Hạn dùng").fill(expires.isoformat())
    office.get_by_label("Số lượng (uL)").focus()
    office.keyboard.type("45.000")
    office.keyboard.press("Tab")
    office.keyboard.press("Tab")
    office.keyboard.type("Công ty CP Dược phẩm và Thiết bị Y tế Hà Nội")
    office.keyboard.press("Enter")
    expect(office.locator("#stock [data-notice]")).to_contain_text("Đã nhận lô CP2612B: 45.000 uL, dùng được")
    received = lot_row(office, "CP2612B")
    expect(received.locator("[data-lot-status]")).to_have_text("dùng được")
    expect(received).to_contain_text(expires.strftime("%d/%m/%Y"))
    receipt = office.locator("table.card-rows tr[data-kind=receipt]").filter(has_text="CP2612B")
    expect(receipt).to_contain_text("nhập từ Công ty CP Dược phẩm và Thiết bị Y tế Hà Nội")  # not "received from"

    press_on(office, received.get_by_role("button", name="Cách ly"))
    expect(office.locator("#stock [data-notice]")).to_contain_text("Đã cách ly lô CP2612B")
    expect(office.locator("#stock [data-notice]")).to_be_focused()  # the pressed button was replaced
    expect(lot_row(office, "CP2612B").locator("[data-lot-status]")).to_have_text("đang cách ly")
    stock = hospital.client().get("/api/v1/lab/reagents/CRP-R1", headers=HEAD).get_json()
    assert stock["on_hand"] == 90_000 and stock["unusable_quantity"] == 45_000

    press_on(office, lot_row(office, "CP2612B").get_by_role("button", name="Cho phép dùng"))
    expect(office.locator("#stock [data-notice]")).to_contain_text("Đã cho phép dùng lô CP2612B")
    expect(lot_row(office, "CP2612B").locator("[data-lot-status]")).to_have_text("dùng được")
    assert office.evaluate("window.sameDocument") is True
    office.screenshot(path=artifacts / "lab-lot-received-quarantined-released.png", full_page=True)

    press_on(office, office.get_by_role("link", name="Dự báo hết hàng"))
    expect(office.get_by_role("heading", name="Dự báo hết hàng")).to_be_visible()
    chart = office.locator("figure[data-chart='tests-chart'] svg")
    expect(chart).to_be_visible()
    expect(chart.locator("g[data-category='CRP']")).to_contain_text("900")  # 135 000 uL / 150 uL a test
    office.screenshot(path=artifacts / "lab-forecast-chart.png", full_page=True)
    with office.expect_download() as downloading:
        press_on(office, office.get_by_role("link", name="Tải về CSV"))
    download = downloading.value
    assert download.suggested_filename == "run_out_forecast.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    crp = next(row for row in rows if row["reagent_code"] == "CRP-R1")
    assert crp["usable"] == "135000" and crp["tests_remaining"] == "900"


def test_the_lab_head_acknowledges_an_alert_and_reads_the_margin_chart(hospital, office, artifacts):
    level = {"reorder_level": 100_000}
    assert hospital.client().patch("/api/v1/lab/reagents/CRP-R1", json=level, headers=HEAD).status_code == 200
    hospital.client().post("/api/v1/lab/reagents/CRP-R1/lots", headers={**HEAD, "Idempotency-Key": str(uuid.uuid4())},
                           json={"lot_number": "CP-NONE", "quantity": 1,
                                 "expires_on": (date.today() + timedelta(days=90)).isoformat()})
    press_on(office, office.get_by_role("link", name=re.compile("^Cảnh báo đang mở chờ")))
    item = office.locator("li[data-state='open']", has_text="CRP-R1")
    expect(item).to_contain_text("dưới mức đặt hàng 100.000 uL")
    press_on(office, item.get_by_role("button", name=re.compile("^Xác nhận đã xem")))
    seen = office.locator("li[data-state='acknowledged']", has_text="CRP-R1")
    expect(seen).to_contain_text("labhead xác nhận đã xem lúc")
    office.screenshot(path=artifacts / "lab-alert-acknowledged.png", full_page=True)
    for rerun in (False, True):
        run = {"encounter_id": "1", "patient_id": "1", "test_code": "GLU", "analyzer_code": "AU480", "is_rerun": rerun}
        assert hospital.client().post("/api/v1/lab/test-runs", json=run, headers={
            **bearer("lab_tech"), "Idempotency-Key": str(uuid.uuid4())}).status_code == 201
    press_on(office, office.get_by_role("link", name="Biên lợi nhuận", exact=True))
    expect(office.get_by_role("heading", name="Biên lợi nhuận của khoa xét nghiệm")).to_be_visible()
    expect(office.locator("figure[data-chart='margin-chart'] g[data-category='GLU']")).to_contain_text("21.500")
    expect(office.locator("table[data-unbilled]")).to_contain_text("chạy lại")
    assert office.evaluate(UNLABELLED) == []
    office.screenshot(path=artifacts / "lab-margin.png", full_page=True)
    press_on(office, office.get_by_role("link", name="Hiệu suất hóa chất"))
    bars = office.locator("figure[data-chart='yield-chart'] g[data-category='GLU-R1 GL2603A'] rect")
    expect(bars).to_have_count(3)
    expect(office.locator("tr[data-lot='GL2603A']")).to_contain_text("1.000")  # 200 000 uL / 200 uL a test
    office.screenshot(path=artifacts / "lab-yield.png", full_page=True)
