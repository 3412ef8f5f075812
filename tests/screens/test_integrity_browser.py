"""The admin's integrity page in a real browser (Debian's Chromium), by keyboard, against the live demo hospital: a
row of the lab's stock card changed behind the service's back is an open alert on the lab's tab, in Vietnamese, and a
check run from the page names the broken stream and row."""

import re

from playwright.sync_api import Page, expect

from common.integrity import check_and_alert
from common.queue import app_connection
from tests.screens.browser import sign_in_by_keyboard
from tests.screens.test_integrity_pages import break_a_lab_row


def test_the_admin_sees_a_broken_lab_chain_as_an_open_alert_and_checks_every_chain(hospital, page: Page, artifacts):
    row_id = break_a_lab_row(hospital.lab_app)
    with app_connection(hospital.lab_app):
        check_and_alert()  # what the sweeper does every INTEGRITY_CHECK_SECONDS
    page.set_default_timeout(15_000)
    sign_in_by_keyboard(page, hospital.url, "admin", lands_on="/admin/")

    page.get_by_role("link", name="Toàn vẹn dữ liệu").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Toàn vẹn dữ liệu")).to_be_visible()
    lab_tab = page.get_by_role("link", name=re.compile(r"^Khoa xét nghiệm"))
    expect(lab_tab).to_have_text("Khoa xét nghiệm (1 đang mở)")
    lab_tab.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(hospital.url + "/admin/integrity?service=lab")
    alert = page.locator("table.integrity-alerts tr[data-state=open]")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("Đang mở")
    expect(alert).to_contain_text("Sổ kho hóa chất (mỗi lô một chuỗi)")
    expect(alert).to_contain_text("Nội dung dòng không khớp với mã băm của nó: đã bị sửa, hoặc được ghi từ ngoài "
                                  "hệ thống.")
    expect(alert.locator("td").nth(3)).to_have_text(str(row_id))

    page.get_by_role("button", name="Kiểm tra mọi chuỗi ngay").focus()
    page.keyboard.press("Enter")
    report = page.locator("#check-report")
    expect(report.get_by_role("alert")).to_have_text(
        "Có chuỗi không khớp, hoặc có dịch vụ không trả lời: xem bên dưới.")
    expect(report.locator("tr[data-chain='lab.reagent_lot_ledger']")).to_contain_text("1 luồng bị đứt")
    expect(report.locator("tr[data-chain='pharmacy.drug_lot_stock_card']")).to_contain_text("Khớp")
    expect(report.locator("tr[data-differs=content]")).to_contain_text(str(row_id))
    page.screenshot(path=str(artifacts / "admin-integrity-check.png"), full_page=True)
