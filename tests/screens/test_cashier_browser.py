"""The cashier desk in a real browser (Debian's Chromium) against live services on this run's databases: find a
patient by a name typed without accents, open the bill, show the VietQR (decoded back from the rendered page) on the
customer display in a second window, and watch both turn paid, without a reload, when the bank's signed notice
arrives (sent the way `python -m manage bank-transfer` sends it)."""

import re

import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from common.bank_simulator import notification, send
from tests.screens import cashier_desk
from tests.screens.browser import UNLABELLED, ready, sign_in_by_keyboard
from tests.screens.cashier_desk import BANK_ACCOUNT, BANK_SECRET

desk, localstripe, localstripe_server = cashier_desk.desk, cashier_desk.localstripe, cashier_desk.localstripe_server


def test_the_cashier_finds_a_patient_shows_a_vietqr_and_sees_the_bill_paid_without_a_reload(desk, page: Page,
                                                                                             artifacts):
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, desk.url, "cashier", start="/", lands_on="/cashier/")

    search = page.get_by_label("CCCD, họ tên, số điện thoại hoặc thẻ BHYT")
    expect(search).to_be_focused()
    page.keyboard.type("nguyen van an")
    page.keyboard.press("Enter")
    found = page.locator("#results tr[data-patient='1']")
    expect(found).to_contain_text("Nguyễn Văn An")
    expect(found).to_contain_text("DN4010123456789")
    found.get_by_role("link", name="Hoá đơn lượt khám 1").click()

    expect(page).to_have_url(desk.url + "/cashier/bills/1")
    expect(page.locator("#bill-status [data-state]")).to_have_text("Chưa thanh toán")
    ceftriaxone = page.locator("tr[data-line='40.268']")
    expect(ceftriaxone.locator("[data-insurer]")).to_have_text("280.000\u00a0₫")
    expect(ceftriaxone.locator("[data-copay]")).to_have_text("70.000\u00a0₫")
    expect(page.locator("tr[data-line='VTM-BEROCCA'] [data-outside]")).to_have_text("60.000\u00a0₫")
    expect(page.locator("#bill-status [data-balance]")).to_have_text("134.300\u00a0₫")
    ready(page)

    page.get_by_role("button", name="Hiện mã VietQR").click()
    qr = page.locator("#pay-panel .qr img")
    expect(qr).to_be_visible()
    page.wait_for_function("() => document.querySelector('#pay-panel .qr img').naturalWidth > 0")
    qr_path = artifacts / "cashier-vietqr.png"
    qr.screenshot(path=qr_path)
    [decoded] = zxingcpp.read_barcodes(Image.open(qr_path))
    assert "HD000001" in decoded.text and "5406134300" in decoded.text and BANK_ACCOUNT in decoded.text

    with page.expect_popup() as opened:
        page.get_by_role("link", name="Hiện trên màn hình khách hàng").click()
    display = opened.value
    display.set_default_timeout(10_000)
    expect(display.locator("[data-amount]")).to_have_text("134.300\u00a0₫")
    expect(display.locator("[data-reference]")).to_have_text("HD000001")
    expect(display.locator("h1")).to_have_text("Bệnh viện Đa khoa tỉnh")
    display.wait_for_function("() => document.querySelector('.qr img').naturalWidth > 0")
    display.screenshot(path=artifacts / "cashier-customer-display-waiting.png")

    answer = send(desk.url, notification("HD000001", 134_300, BANK_ACCOUNT), BANK_SECRET)
    assert answer.status_code == 200 and answer.json()["status"] == "matched", answer.text

    expect(page.locator("#bill-status [data-state]")).to_have_text("Đã thanh toán")  # polled; nobody touched it
    expect(page.locator("#bill-status [data-balance]")).to_have_text("0\u00a0₫")
    expect(page.locator("#pay-actions")).to_contain_text("không còn gì phải trả")
    assert page.evaluate("window.sameDocument") is True
    expect(display.locator("[role=status]")).to_contain_text("Đã thanh toán")
    page.screenshot(path=artifacts / "cashier-bill-paid.png", full_page=True)
    display.screenshot(path=artifacts / "cashier-customer-display-paid.png")

    with page.expect_popup() as printed:
        page.get_by_role("link", name="In phiếu thu").click()
    receipt = printed.value
    expect(receipt.locator("[data-receipt] h1")).to_have_text("PHIẾU THU")
    receipt.emulate_media(media="print")
    expect(receipt.locator("header.top")).to_be_hidden()
    expect(receipt.locator("[data-receipt] [data-paid]")).to_have_text("134.300\u00a0₫")
    receipt.screenshot(path=artifacts / "cashier-receipt-print.png", full_page=True)


def test_every_field_of_the_desk_has_a_label(desk, page: Page):
    page.goto(desk.url + "/sign-in")
    page.get_by_label("Tên đăng nhập").fill("cashier")
    page.get_by_label("Mật khẩu").fill("demo")
    page.keyboard.press("Enter")
    expect(page).to_have_url(desk.url + "/cashier/")
    for path in ("/cashier/", "/cashier/patients/new", "/cashier/patients/5", "/cashier/bills/1"):
        page.goto(desk.url + path)
        assert page.evaluate(UNLABELLED) == [], path
    assert re.search("Hoàng Minh Đức", page.goto(desk.url + "/cashier/patients/5").text())
