"""What billing writes in English (a finding's description, a remittance row it did not use, a reconciliation's
details) is on the finance office's pages in the chosen language: in a real browser (Debian's Chromium) against
live billing and gateway servers, Vietnamese first, then English."""

from playwright.sync_api import Page, expect

from tests.screens.browser import sign_in_by_keyboard
from tests.screens.finance_office import CLEAN, PERIOD, REJECTION, REMITTANCE, UNSIGNED, october

MONTH = "Tháng đề nghị thanh toán (các lượt khám ra viện trong tháng)"
FILE = "Tệp kết quả giám định của BHXH (CSV có dòng tiêu đề, hoặc JSON lines)"


def test_findings_rejected_rows_and_discrepancies_are_in_vietnamese_then_in_english(office, page: Page, artifacts):
    october(office.billing_app, unsigned=True)  # a visit whose doctor is not named: a critical finding
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, office.url, "finance", lands_on="/finance/")
    month = page.get_by_label(MONTH)
    expect(month).to_be_focused()
    month.fill(PERIOD)
    month.press("Enter")
    expect(page).to_have_url(office.url + "/finance/batches/1")

    unsigned = page.locator("tr[data-rule=practitioner_missing]").first
    expect(unsigned).to_contain_text(UNSIGNED)
    expect(unsigned).to_contain_text("Cả dòng và lượt khám đều không ghi bác sĩ chỉ định (MA_BAC_SI).")
    expect(page.locator("table.findings")).not_to_contain_text("Neither the line nor the visit")
    page.screenshot(path=str(artifacts / "texts-finding-vi.png"), full_page=True)

    page.get_by_label(FILE).set_input_files(
        files=[{"name": "GIAMDINH_202610.csv", "mimeType": "text/csv", "buffer": REMITTANCE.encode()}])
    page.get_by_role("button", name="Tải lên").click()
    never_claimed = page.locator("#remittance-result [data-file-line='4']")
    expect(never_claimed).to_have_text(f"4Không có dòng XML3 số 9 đã đề nghị thanh toán cho MA_LK {CLEAN}.")

    page.goto(office.url + f"/finance/reconciliation?period={PERIOD}")
    page.get_by_role("button", name="Đối soát").click()
    done = page.locator("#run [data-state=done]")
    expect(done).to_be_visible()
    expect(done.locator("tr[data-kind=rejected_by_insurer]")).to_contain_text(f"Lý do của BHXH: {REJECTION}")
    unpaid = done.locator("tr[data-kind=patient_share_unpaid]").first
    expect(unpaid).to_contain_text("phần người bệnh phải trả")
    expect(unpaid).to_contain_text("₫, đã trả 0\u00a0₫.")
    expect(done.locator("table.discrepancies")).not_to_contain_text("patient share")
    page.screenshot(path=str(artifacts / "texts-reconciliation-vi.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    page.goto(office.url + "/finance/batches/1")
    expect(page.locator("tr[data-rule=practitioner_missing]").first).to_contain_text(
        "Neither the line nor the visit names the doctor who ordered it (MA_BAC_SI).")
    page.goto(office.url + f"/finance/reconciliation?period={PERIOD}")
    page.get_by_role("button", name="Reconcile").click()
    expect(page.locator("#run [data-state=done] tr[data-kind=rejected_by_insurer]")).to_contain_text(
        f"The insurer's reason: {REJECTION}")
