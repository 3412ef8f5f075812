"""The lab bench in a real browser (Debian's Chromium), keyboard only, against live services on this run's
databases: sign in in Vietnamese, scan, log, watch stock fall and the banner raise an alert without a reload."""

import re
import threading

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from gateway.screens import session as screen_session
from tests.screens.browser import UNLABELLED, ready, scan, sign_in_by_keyboard
from tests.support import LiveServer, bearer, free_port

HEAD = bearer("lab_head")


@pytest.fixture
def bench(hospital, page: Page):
    """A browser page signed in as the lab technician, by keyboard, on the bench."""
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, hospital.url, "labtech", start="/", lands_on="/bench/")
    return page


def stock_row(page: Page, reagent_code: str):
    return page.locator(f"#banner li[data-reagent='{reagent_code}'] [data-usable]")


def test_a_technician_logs_a_run_by_keyboard_sees_what_it_used_and_an_alert_appear(hospital, bench, artifacts):
    level = {"reorder_level": 149_900}  # one creatinine run (150 uL) from the reorder level
    assert hospital.client().patch("/api/v1/lab/reagents/CREA-R1", json=level, headers=HEAD).status_code == 200
    expect(bench.locator("#worklist")).to_contain_text("Trần Thị Bích")
    expect(stock_row(bench, "CREA-R1")).to_have_text("150.000 uL")
    expect(bench.locator("#banner [data-kind=below_reorder_level][data-reagent='CREA-R1']")).to_have_count(0)

    expect(bench.get_by_label(re.compile("^Lượt khám"))).to_be_focused()
    scan(bench, "3")
    expect(bench.locator("#visit-panel")).to_contain_text("Trần Thị Bích")
    expect(bench.get_by_label("Xét nghiệm (quét hoặc gõ mã)")).to_be_focused()
    scan(bench, "CREA")

    logged = bench.locator("#run-result [data-logged]")
    expect(logged).to_contain_text("Đã ghi")
    expect(logged.locator("tbody tr")).to_have_text(re.compile(r"CREA-R1.*CR2605\s+150 uL", re.S))
    expect(stock_row(bench, "CREA-R1")).to_have_text("149.850 uL")
    alert = bench.locator("#banner [data-kind=below_reorder_level][data-reagent='CREA-R1']")
    expect(alert).to_contain_text("dưới mức đặt hàng 149.900 uL")
    expect(bench.locator("#worklist tr[data-visit='3'][data-test='CREA']")).to_have_count(0)
    assert bench.evaluate("window.sameDocument") is True
    bench.screenshot(path=artifacts / "bench-logged-and-alerted.png", full_page=True)


def test_the_banner_updates_by_itself_when_stock_moves_elsewhere(hospital, bench, artifacts):
    reagent = hospital.client().get("/api/v1/lab/reagents/CBC-WDF", headers=HEAD).get_json()
    lot_id = reagent["lots"][0]["id"]
    alert = bench.locator("#banner [data-kind=below_reorder_level][data-reagent='CBC-WDF']")
    expect(alert).to_have_count(0)
    spilt = {"quantity": 170_000, "reason": "Đổ vỡ chai Lysercell WDF khi lắp vào máy XN-1000"}
    assert hospital.client().post(f"/api/v1/lab/reagent-lots/{lot_id}/wastage", json=spilt,
                                  headers=HEAD).status_code == 201
    expect(alert).to_contain_text("còn 40.000 uL dùng được")  # the page polls; nobody touched it
    assert bench.evaluate("window.sameDocument") is True
    bench.screenshot(path=artifacts / "bench-banner-polled.png")


def test_unknown_and_closed_visits_are_stopped_and_a_shortage_is_explained(hospital, bench, artifacts):
    scan(bench, "999")
    expect(bench.locator("#visit-panel [data-stopped]")).to_contain_text("Lượt khám 999 không tồn tại")
    expect(bench.get_by_label(re.compile("^Lượt khám"))).to_be_focused()
    scan(bench, "4")
    expect(bench.locator("#visit-panel [data-stopped]")).to_contain_text("Lượt khám 4 đã đóng lúc")
    scan(bench, "1")
    expect(bench.get_by_label("Xét nghiệm (quét hoặc gõ mã)")).to_be_focused()
    scan(bench, "HBA1C")
    short = bench.locator("#run-result [data-short]")
    expect(short).to_contain_text("HBA1C-KIT): lần chạy này cần 1 test, chỉ còn 0 test dùng được")
    expect(short).to_contain_text("đang cách ly chờ QC cho phép")
    bench.screenshot(path=artifacts / "bench-stopped-and-short.png", full_page=True)
    runs = hospital.client().get("/api/v1/lab/test-runs", headers=bearer("lab_tech")).get_json()
    assert runs == []


def test_a_run_on_an_order_of_another_patient_is_confirmed_by_keyboard(hospital, bench):
    misfiled = {"encounter_id": "3", "patient_id": "2", "test_code": "UREA"}
    assert hospital.client().post("/api/v1/lab/worklist", json=misfiled, headers=HEAD).status_code == 201
    scan(bench, "3")
    expect(bench.get_by_label("Xét nghiệm (quét hoặc gõ mã)")).to_be_focused()
    scan(bench, "UREA")
    confirm = bench.get_by_role("button", name="Vẫn ghi")
    expect(confirm).to_be_focused()
    bench.keyboard.press("Enter")
    expect(bench.locator("#run-result [data-logged]")).to_contain_text("Đã ghi")
    expect(bench.get_by_label("Xét nghiệm (quét hoặc gõ mã)")).to_be_focused()
    bench.keyboard.press("Escape")
    expect(bench.get_by_label(re.compile("^Lượt khám"))).to_be_focused()


def test_sign_out_by_keyboard(hospital, bench):
    bench.get_by_role("button", name="Đăng xuất").focus()
    bench.keyboard.press("Enter")
    expect(bench.get_by_role("status")).to_contain_text("Bạn đã đăng xuất")
    bench.goto(hospital.url + "/bench/")
    expect(bench.get_by_role("heading", name="Đăng nhập")).to_be_visible()


def test_an_idle_bench_signs_itself_out(hospital, bench, monkeypatch, artifacts):
    later = screen_session.now() + 31 * 60
    monkeypatch.setattr(screen_session, "now", lambda: later)
    # the banner's next poll finds the session idle and the page goes to the sign-in page by itself
    expect(bench.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    expect(bench.get_by_role("status")).to_contain_text("đăng xuất sau một thời gian không thao tác")
    bench.screenshot(path=artifacts / "bench-idle-signed-out.png")


def test_a_forged_form_from_another_page_is_refused(hospital, bench, live_server):
    forger = Flask("forger")
    forged_form = (f'<form id="f" method="post" action="{hospital.url}/bench/runs"><input name="visit" value="1">'
                   '<input name="test" value="GLU"><input name="submission_id" '
                   'value="6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"><button>Gửi</button></form>')
    forger.add_url_rule("/", "forged", lambda: forged_form)
    server = LiveServer(forger, free_port())
    try:
        bench.goto(server.url + "/")
        bench.get_by_role("button", name="Gửi").click()
        expect(bench.get_by_role("heading", name="Không được phép")).to_be_visible()
        expect(bench.locator("main")).to_contain_text("không đến từ trang này")
    finally:
        threading.Thread(target=server.stop).start()
    runs = hospital.client().get("/api/v1/lab/test-runs", headers=bearer("lab_tech")).get_json()
    assert runs == []


def test_another_roles_page_shows_403(hospital, bench):
    response = bench.goto(hospital.url + "/cashier/")
    assert response.status == 403
    expect(bench.locator("main")).to_contain_text("Trang này thuộc về vai trò khác")


def test_the_language_switches_to_english_and_back(hospital, bench, artifacts):
    bench.get_by_role("link", name="English").click()
    expect(bench.get_by_role("heading", name="Log a run")).to_be_visible()
    expect(bench.locator("html")).to_have_attribute("lang", "en")
    bench.screenshot(path=artifacts / "bench-in-english.png", full_page=True)
    bench.get_by_role("link", name="Tiếng Việt").click()
    expect(bench.get_by_role("heading", name="Ghi lần chạy xét nghiệm")).to_be_visible()


def test_every_field_of_the_sign_in_page_and_the_bench_has_a_label(hospital, page: Page):
    page.goto(hospital.url + "/sign-in")
    assert page.evaluate(UNLABELLED) == []
    page.get_by_label("Tên đăng nhập").fill("labtech")
    page.get_by_label("Mật khẩu").fill("demo")
    page.keyboard.press("Enter")
    expect(page).to_have_url(hospital.url + "/bench/")
    ready(page)
    expect(page.get_by_label(re.compile("^Lượt khám"))).to_be_focused()
    scan(page, "1")
    expect(page.get_by_label("Xét nghiệm (quét hoặc gõ mã)")).to_be_focused()
    assert page.evaluate(UNLABELLED) == []
