"""The pharmacy's catalogue, counts and adjustments in a real browser (Debian's Chromium), by keyboard, against live
services on this run's databases: the pharmacist adds a drug (its box's barcode scanned into the GTIN field), is
told of a wrong check digit and of a code already taken, receives a lot of it by scanning, counts the lot with a
discrepancy and sees it, takes broken units off with a reason and sees the shelf change; an adjustment made with
the network down waits in the outbox and is recorded once when it is back."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from common import clock
from common.gs1 import gtin_check_digit
from seeds.pharmacy_service import DRUGS
from tests.screens.browser import UNLABELLED, press_on, ready, scan, sign_in_by_keyboard
from tests.support import bearer

PHARMACIST = bearer("pharmacist")
GTIN = "8936045123454"  # GS1 Vietnam (893), check digit 4
WRONG_CHECK_DIGIT = GTIN[:-1] + "5"
CODE = "40.158.2"  # a second amoxicillin product on the BHYT list's line 40.158 (the hospital's own suffix)
assert gtin_check_digit(GTIN[:-1]) == int(GTIN[-1]) != int(WRONG_CHECK_DIGIT[-1])


@pytest.fixture
def counter(hospital, page: Page):
    """A browser page signed in as the pharmacist, by keyboard, at the counter."""
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, hospital.url, "pharmacist", start="/", lands_on="/pharmacy/")
    return page


def type_into(page: Page, label, text: str) -> None:
    """Focus a field by its label and type, as a person does (select what was there first)."""
    field = page.get_by_label(label, exact=True) if isinstance(label, str) else page.get_by_label(label)
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def fill_the_drug(page: Page, code: str) -> None:
    type_into(page, "Mã thuốc BHYT *", code)
    type_into(page, "Tên thuốc *", "Amoxicilin")
    type_into(page, "Hoạt chất *", "Amoxicilin (dưới dạng trihydrat)")
    type_into(page, "Hàm lượng *", "500 mg")
    type_into(page, "Dạng bào chế *", "Viên nang cứng")
    type_into(page, "Đường dùng *", "Uống")
    type_into(page, "Mã ATC *", "J01CA04")
    type_into(page, "Số đăng ký *", "VD-27662-17")
    page.get_by_label("Đơn vị tính tồn kho *").select_option("capsule")
    type_into(page, "Giá mỗi đơn vị (đồng) *", "1.150")
    type_into(page, "Mức đặt hàng (đơn vị) *", "300")


def on_hand(hospital, lot_id: int) -> int:
    answer = hospital.client().get(f"/api/v1/pharmacy/lots/{lot_id}", headers=PHARMACIST).get_json()
    return answer["quantity_on_hand"]


def open_catalogue(page: Page) -> None:
    page.get_by_role("link", name="Danh mục thuốc").click()  # the pharmacy area's menu
    ready(page)
    expect(page.get_by_role("heading", name="Thêm thuốc vào danh mục")).to_be_visible()


def test_the_pharmacist_adds_a_drug_receives_it_counts_and_adjusts_its_lot_by_keyboard(hospital, counter, artifacts):
    open_catalogue(counter)
    gtin_field = counter.get_by_label(re.compile("^GTIN"))
    expect(gtin_field).to_be_focused()
    assert counter.evaluate(UNLABELLED) == []
    scan(counter, WRONG_CHECK_DIGIT)  # the scanner types the barcode and Enter: on to the code, nothing sent
    expect(counter.get_by_label("Mã thuốc BHYT *")).to_be_focused()
    fill_the_drug(counter, CODE)
    counter.keyboard.press("Enter")
    refused = counter.locator("#drug-form-panel [data-drug-refused]")
    expect(refused).to_contain_text("Chưa thêm thuốc: hãy sửa các trường được đánh dấu (1)")
    expect(gtin_field).to_be_focused()
    expect(gtin_field).to_have_attribute("aria-invalid", "true")
    expect(counter.locator("[data-field-error=gtin]")).to_contain_text("chữ số cuối là số kiểm tra")
    expect(counter.get_by_label("Tên thuốc *")).to_have_value("Amoxicilin")  # what was typed stays
    expect(counter.get_by_label("Giá mỗi đơn vị (đồng) *")).to_have_value("1.150")
    counter.screenshot(path=artifacts / "pharmacy-drug-refused.png", full_page=True)

    type_into(counter, re.compile("^GTIN"), GTIN)
    counter.keyboard.press("Enter")
    press_on(counter, counter.get_by_role("button", name="Thêm vào danh mục"))
    added = counter.locator("#drug-form-panel [data-drug-added]")
    expect(added).to_contain_text(f"Đã thêm vào danh mục: Amoxicilin 500 mg · mã {CODE} · ATC J01CA04")
    expect(added).to_contain_text("1.150 ₫ mỗi viên")
    row = counter.locator(f"#drug-list tr[data-drug='{CODE}']")
    expect(row).to_contain_text("Amoxicilin 500 mg")
    expect(row).to_contain_text("0" + GTIN)
    expect(gtin_field).to_be_focused()  # a fresh form, ready for the next box
    expect(gtin_field).to_have_value("")

    scan(counter, "8936045123461")
    fill_the_drug(counter, DRUGS["amoxicillin"]["code"])  # a code already in the catalogue
    counter.keyboard.press("Enter")
    expect(refused).to_contain_text(f"Mã thuốc {DRUGS['amoxicillin']['code']} đã có trong danh mục: "
                                    "Amoxicillin 500 mg")
    expect(counter.get_by_label("Mã thuốc BHYT *")).to_be_focused()
    expect(counter.locator("[data-field-error=code]")).to_be_visible()
    counter.screenshot(path=artifacts / "pharmacy-drug-duplicate.png", full_page=True)

    counter.get_by_role("link", name="Nhập lô").click()
    ready(counter)
    expires = clock.today() + timedelta(days=500)
    scan(counter, f"010{GTIN}17{expires:%y%m%d}10AMX2705D\x1d21SN0001")
    receipt = counter.locator("#receipt-panel")
    expect(receipt).to_contain_text("Amoxicilin 500 mg")
    expect(counter.get_by_label("Số lượng nhập (viên)")).to_be_focused()
    counter.keyboard.type("200")
    type_into(counter, "Giá nhập mỗi viên (đồng)", "890")
    type_into(counter, "Nhà cung cấp", "Công ty CP Dược phẩm Domesco")
    counter.keyboard.press("Enter")
    expect(counter.locator("#receipt-panel [data-received]")).to_contain_text("200 viên Amoxicilin 500 mg, lô AMX2705D")

    counter.get_by_role("link", name="Tồn kho và thu hồi").click()
    ready(counter)
    scan(counter, CODE)
    press_on(counter, counter.get_by_role("button", name="Kiểm kê hoặc điều chỉnh lô AMX2705D"))
    counted = counter.get_by_label("Số đếm được trên kệ (viên) *")
    expect(counted).to_be_focused()
    counter.keyboard.type("1,5")  # a decimal comma: refused, nothing recorded
    counter.keyboard.press("Enter")
    outcome = counter.locator("#lot-outcome")
    expect(outcome).to_contain_text("Chưa ghi được cho lô AMX2705D: Gõ số lượng đếm được trên kệ")
    expect(counted).to_have_value("1,5")
    type_into(counter, "Số đếm được trên kệ (viên) *", "196")
    counter.keyboard.press("Enter")
    recorded = counter.locator("#lot-panel [data-moved=count]")
    expect(recorded).to_contain_text("Đã ghi kiểm kê lô AMX2705D. Có chênh lệch với sổ sách")
    expect(recorded.locator("[data-book]")).to_have_text("200 viên")
    expect(recorded.locator("[data-counted]")).to_have_text("196 viên")
    expect(recorded.locator("[data-difference]")).to_have_text("-4 viên")
    expect(recorded).to_be_focused()
    expect(counter.locator("#lot-panel [data-lot-card] tr[data-discrepancy]")).to_have_count(1)
    expect(counter.locator("#drug-panel tr[data-lot='AMX2705D']")).to_contain_text("196 viên")
    expect(counter.locator("#stock-rows tr[data-drug='40.158.2']")).to_contain_text("196 viên")  # every drug's too
    counter.screenshot(path=artifacts / "pharmacy-lot-counted.png", full_page=True)

    counter.get_by_label("Lý do *", exact=True).nth(1).select_option("damaged")
    type_into(counter, "Số lượng (viên) *", "2")
    type_into(counter, "Ghi chú", "Vỡ 2 viên khi chia liều")
    counter.keyboard.press("Enter")
    adjusted = counter.locator("#lot-panel [data-moved=adjustment]")
    expect(adjusted).to_contain_text("-2 viên (hư hỏng, đổ vỡ: Vỡ 2 viên khi chia liều)")
    expect(adjusted.locator("[data-shelf]")).to_have_text("Trên kệ: 196 → 194 viên.")
    expect(counter.locator("#lot-panel .lot > p").first).to_contain_text("194 viên trên kệ")
    expect(counter.locator("#drug-panel tr[data-lot='AMX2705D']")).to_contain_text("194 viên")
    expect(counter.locator("#stock-rows tr[data-drug='40.158.2']")).to_contain_text("194 viên")
    assert counter.evaluate(UNLABELLED) == []
    counter.screenshot(path=artifacts / "pharmacy-lot-adjusted.png", full_page=True)

    lot = hospital.client().get(f"/api/v1/pharmacy/drugs/{CODE}", headers=PHARMACIST).get_json()["lots"][0]
    assert on_hand(hospital, lot["id"]) == 194
    card = hospital.client().get(f"/api/v1/pharmacy/drugs/{CODE}/ledger", headers=PHARMACIST).get_json()
    assert [(entry["kind"], entry["quantity_change"]) for entry in card] == [
        ("adjustment", -2), ("count", -4), ("receipt", 200)]


def test_an_adjustment_made_offline_waits_in_the_outbox_and_is_recorded_once(hospital, counter):
    lots = hospital.client().get(f"/api/v1/pharmacy/drugs/{DRUGS['paracetamol']['code']}",
                                 headers=PHARMACIST).get_json()["lots"]
    lot = lots[0]
    before = lot["quantity_on_hand"]
    counter.goto(hospital.url + f"/pharmacy/stock/lots/{lot['id']}?focus=adjust")
    ready(counter)
    counter.wait_for_function("() => window.Outbox !== undefined")
    expect(counter.get_by_label("Số lượng (viên) *")).to_be_focused()
    counter.context.set_offline(True)
    counter.get_by_label("Lý do *", exact=True).nth(1).select_option("lost")
    type_into(counter, "Số lượng (viên) *", "3")
    counter.keyboard.press("Enter")
    expect(counter.locator("#lot-panel [data-queued]")).to_be_visible()
    expect(counter.locator("[data-outbox-panel] [data-outbox-count]")).to_have_text("1")
    expect(counter.locator("[data-outbox-item]")).to_contain_text(f"Điều chỉnh tồn kho · lô {lot['lot_number']}, 3")
    assert on_hand(hospital, lot["id"]) == before
    counter.context.set_offline(False)  # the "online" event replays the outbox
    expect(counter.locator("[data-outbox-panel] [data-outbox-count]")).to_have_text("0", timeout=20_000)
    expect(counter.locator("[data-outbox-item][data-state=sent]")).to_have_count(1)
    assert on_hand(hospital, lot["id"]) == before - 3
    counter.evaluate("window.Outbox.replay()")  # sent again by hand: nothing more is taken
    assert on_hand(hospital, lot["id"]) == before - 3
