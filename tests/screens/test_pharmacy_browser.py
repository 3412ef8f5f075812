"""The pharmacy counter in a real browser (Debian's Chromium), keyboard only, against live services on this run's
databases: the pharmacist scans a lot in (the DataMatrix text typed into the focused field, as a keyboard-wedge
scanner does, group separator dropped), then dispenses a prescription FEFO from it: scan, Enter, confirm."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from common import clock
from seeds.pharmacy_service import DRUGS
from tests.screens.browser import UNLABELLED, ready, scan, sign_in_by_keyboard
from tests.support import bearer

AMOXICILLIN_GTIN = DRUGS["amoxicillin"]["gtin"].zfill(14)
@pytest.fixture
def counter(hospital, page: Page):
    """A browser page signed in as the pharmacist, by keyboard, at the counter."""
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, hospital.url, "pharmacist", start="/", lands_on="/pharmacy/")
    return page


def test_the_pharmacist_scans_a_lot_in_and_dispenses_fefo_from_it_by_keyboard(hospital, counter, artifacts):
    expires = clock.today() + timedelta(days=60)  # before the seeded amoxicillin lots: FEFO takes it first
    datamatrix = f"01{AMOXICILLIN_GTIN}17{expires:%y%m%d}10AMX2612K21SN7Q4M2X9"  # the wedge dropped the separator

    counter.goto(hospital.url + "/pharmacy/receive")
    ready(counter)
    expect(counter.get_by_label(re.compile("^Mã DataMatrix"))).to_be_focused()
    scan(counter, datamatrix)
    receipt = counter.locator("#receipt-panel")
    expect(receipt).to_contain_text("Amoxicillin 500 mg")
    expect(receipt.locator("[data-separator-missing]")).to_be_visible()
    expect(counter.get_by_label("Số lô (AI 10)")).to_have_value("AMX2612K")
    expect(counter.get_by_label("Số sê-ri (AI 21)")).to_have_value("SN7Q4M2X9")
    expect(receipt.locator("[data-expires]")).to_have_text(expires.strftime("%d/%m/%Y"))
    expect(counter.get_by_label("Số lượng nhập (viên)")).to_be_focused()
    scan(counter, "300")  # the cost and supplier come filled from the last delivery: Enter confirms
    received = counter.locator("#receipt-panel [data-received]")
    expect(received).to_contain_text("300 viên Amoxicillin 500 mg, lô AMX2612K")
    expect(received.locator("[data-condition]")).to_have_text("dùng được")
    expect(counter.get_by_label(re.compile("^Mã DataMatrix"))).to_be_focused()
    assert counter.evaluate("window.sameDocument") is True
    counter.screenshot(path=artifacts / "pharmacy-lot-received.png", full_page=True)

    counter.goto(hospital.url + "/pharmacy/")
    ready(counter)
    expect(counter.locator("#queue tr[data-prescription='1']")).to_contain_text("Nguyễn Văn An")
    expect(counter.get_by_label("Đơn thuốc (quét mã vạch hoặc gõ số đơn)")).to_be_focused()
    scan(counter, "1")
    panel = counter.locator("#prescription-panel")
    expect(panel).to_contain_text("Nguyễn Văn An")
    picked = panel.locator("section.plan").filter(has_text="Amoxicillin").locator("tr[data-lot='AMX2612K']")
    expect(picked.locator("[data-condition]")).to_have_text("dùng được")
    expect(picked.locator("[data-taken]")).to_have_text("21 viên")  # shown before anything is taken
    confirm = counter.get_by_role("button", name="Phát thuốc")
    expect(confirm).to_be_focused()
    counter.screenshot(path=artifacts / "pharmacy-fefo-before-confirm.png", full_page=True)
    counter.keyboard.press("Enter")
    dispensed = counter.locator("#prescription-panel [data-dispensed]")
    expect(dispensed).to_contain_text("Đã phát:")
    expect(dispensed.locator("tr[data-lot='AMX2612K']")).to_contain_text("21 viên")
    expect(counter.locator("#queue tr[data-prescription='1']")).to_have_count(0)
    expect(counter.get_by_label("Đơn thuốc (quét mã vạch hoặc gõ số đơn)")).to_be_focused()
    assert counter.evaluate("window.sameDocument") is True
    counter.screenshot(path=artifacts / "pharmacy-dispensed-fefo.png", full_page=True)

    lots = hospital.client().get(f"/api/v1/pharmacy/drugs/{DRUGS['amoxicillin']['code']}",
                                 headers=bearer("pharmacist")).get_json()["lots"]
    assert {lot["lot_number"]: lot["quantity_on_hand"] for lot in lots}["AMX2612K"] == 279


def test_a_bad_scan_is_told_and_the_field_is_ready_for_the_next(hospital, counter, artifacts):
    counter.goto(hospital.url + "/pharmacy/receive")
    ready(counter)
    scan(counter, "8936000110017")  # the pack's 1D EAN-13, not its DataMatrix
    expect(counter.locator("#receipt-panel [data-scan-refused]")).to_contain_text("không phải mã GS1 DataMatrix")
    expect(counter.get_by_label(re.compile("^Mã DataMatrix"))).to_be_focused()
    counter.screenshot(path=artifacts / "pharmacy-bad-scan.png")


def test_every_field_of_the_counter_has_a_label(hospital, counter):
    assert counter.evaluate(UNLABELLED) == []
    scan(counter, "4")
    expect(counter.get_by_role("button", name="Phát thuốc")).to_be_focused()
    assert counter.evaluate(UNLABELLED) == []
    for path in ("/pharmacy/receive", "/pharmacy/returns", "/pharmacy/stock"):
        counter.goto(hospital.url + path)
        assert counter.evaluate(UNLABELLED) == [], path


def test_a_partial_dispense_by_keyboard_leaves_the_rest_open(hospital, counter, artifacts):
    scan(counter, "2")
    expect(counter.get_by_role("button", name="Phát thuốc")).to_be_focused()
    quantity = counter.get_by_label("Phát lần này: Ceftriaxon 1 g")
    quantity.focus()
    counter.keyboard.press("Control+A")
    counter.keyboard.type("4")
    counter.keyboard.press("Enter")  # plans again with 4 vials: the lots shown are what will be taken
    expect(counter.locator("#prescription-panel")).to_contain_text("10 lọ còn lại vẫn mở trên đơn thuốc")
    expect(counter.get_by_label("Phát lần này: Ceftriaxon 1 g")).to_have_value("4")
    expect(counter.get_by_role("button", name="Phát thuốc")).to_be_focused()
    counter.keyboard.press("Enter")
    dispensed = counter.locator("#prescription-panel [data-dispensed]")
    expect(dispensed).to_contain_text("Còn mở trên đơn: Ceftriaxon 1 g × 10 lọ")
    expect(counter.locator("#queue tr[data-prescription='2']")).to_contain_text("đã phát một phần")
    counter.screenshot(path=artifacts / "pharmacy-partial-dispense.png", full_page=True)
    prescription = hospital.client().get("/api/v1/pharmacy/prescriptions/2", headers=bearer("pharmacist")).get_json()
    assert [line["quantity_dispensed"] for line in prescription["lines"]] == [4, 7]


def test_a_lot_is_found_by_scanning_a_pack_and_recalled_by_keyboard(hospital, counter, artifacts):
    scan(counter, "1")  # Nguyễn Văn An gets amoxicillin from the lot that expires first
    expect(counter.get_by_role("button", name="Phát thuốc")).to_be_focused()
    counter.keyboard.press("Enter")
    expect(counter.locator("#prescription-panel [data-dispensed]")).to_be_visible()
    pharmacist = bearer("pharmacist")
    lots = hospital.client().get(f"/api/v1/pharmacy/drugs/{DRUGS['amoxicillin']['code']}",
                                 headers=pharmacist).get_json()["lots"]
    first = min(lots, key=lambda lot: lot["expires_on"])
    expires = first["expires_on"].replace("-", "")[2:]

    counter.goto(hospital.url + "/pharmacy/stock")
    ready(counter)
    expect(counter.get_by_label(re.compile("^Thuốc \\(mã thuốc"))).to_be_focused()
    scan(counter, f"01{AMOXICILLIN_GTIN}17{expires}10{first['lot_number']}21SN55501")
    picked = counter.locator(f"#drug-panel tr[data-scanned][data-lot='{first['lot_number']}']")
    expect(picked.get_by_role("button", name="Người đã nhận và thu hồi")).to_be_focused()
    counter.keyboard.press("Enter")
    recipients = counter.locator("#lot-panel table.recipients")
    expect(recipients).to_contain_text("Nguyễn Văn An")
    expect(counter.get_by_label(re.compile("^Lý do thu hồi"))).to_be_focused()
    scan(counter, "Công văn thu hồi số 1234/QLD-CL của Cục Quản lý Dược")
    recalled = counter.locator("#lot-panel [data-recalled]")
    expect(recalled).to_contain_text("1 lượt khám được gắn cờ")
    expect(counter.locator("#lot-panel [data-condition]").first).to_have_text("đã thu hồi")
    lot_row = counter.locator(f"#drug-panel tr[data-lot='{first['lot_number']}'] [data-condition]")
    expect(lot_row).to_have_text("đã thu hồi")  # the drug's lots are read again after the recall
    counter.screenshot(path=artifacts / "pharmacy-lot-recalled.png", full_page=True)
    lot = hospital.client().get(f"/api/v1/pharmacy/lots/{first['id']}", headers=pharmacist).get_json()
    assert lot["condition"] == "recalled"


def test_a_lot_received_with_the_network_down_says_so_and_goes_through_once_it_is_back(hospital, counter):
    expires = clock.today() + timedelta(days=400)
    counter.goto(hospital.url + "/pharmacy/receive")
    ready(counter)
    scan(counter, f"01{AMOXICILLIN_GTIN}17{expires:%y%m%d}10AMX2701Q21SN0001")
    quantity = counter.get_by_label("Số lượng nhập (viên)")
    expect(quantity).to_be_focused()
    counter.keyboard.type("100")
    counter.context.set_offline(True)  # receiving has no outbox: it must say that nothing was recorded
    counter.keyboard.press("Enter")
    notice = counter.locator("#connection-lost")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Chưa gửi được: mất kết nối")
    counter.context.set_offline(False)
    quantity.focus()
    counter.keyboard.press("Enter")
    expect(counter.locator("#receipt-panel")).to_contain_text("Đã nhập")
    expect(notice).to_be_hidden()
