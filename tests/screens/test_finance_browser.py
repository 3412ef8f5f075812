"""The finance office in a real browser (Debian's Chromium) against live billing and gateway servers on this run's
databases: build October's batch, download its BHYT XML through the session, upload the insurer's remittance that
rejects one line, and see that line with its reason."""

from playwright.sync_api import Page, expect

from billing_service.claims.bhyt_xml import parse_giamdinhhs
from tests.screens.browser import ready, sign_in_by_keyboard
from tests.screens.finance_office import CLEAN, PERIOD, REJECTION, REMITTANCE


def test_finance_builds_a_batch_downloads_the_xml_and_sees_the_line_the_insurer_rejected(office, page: Page,
                                                                                         artifacts):
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, office.url, "finance", start="/", lands_on="/finance/")

    month = page.get_by_label("Tháng đề nghị thanh toán (các lượt khám ra viện trong tháng)")
    expect(month).to_be_focused()
    month.fill(PERIOD)
    month.press("Enter")
    expect(page).to_have_url(office.url + "/finance/batches/1")
    expect(page.locator(f"table[data-claim='{CLEAN}']")).to_be_visible()
    expect(page.locator("[data-exportable=yes]")).to_contain_text("Không có lỗi nghiêm trọng")

    with page.expect_download() as downloading:
        page.get_by_role("link", name="XML BHYT (QĐ 4750)").click()
    download = downloading.value
    assert download.suggested_filename.startswith("GIAMDINHHS_") and download.suggested_filename.endswith(".xml")
    [record] = parse_giamdinhhs(open(download.path(), "rb").read())
    assert record["ma_lk"] == CLEAN

    page.get_by_label("Tệp kết quả giám định của BHXH (CSV có dòng tiêu đề, hoặc JSON lines)").set_input_files(
        files=[{"name": "GIAMDINH_202610.csv", "mimeType": "text/csv", "buffer": REMITTANCE.encode()}])
    page.get_by_role("button", name="Tải lên").click()
    result = page.locator("#remittance-result")
    expect(result.get_by_role("status")).to_contain_text("nhận 2 trên 3 dòng")
    expect(result.locator("[data-file-line='4']")).to_be_visible()  # the row naming a line never claimed
    rejected = result.locator("[data-rejected-line]")
    expect(rejected).to_have_count(1)
    expect(rejected).to_contain_text("XML3 #1")
    expect(rejected).to_contain_text(REJECTION)
    claim = page.locator(f"#claims table[data-claim='{CLEAN}']")  # shown again without a reload
    expect(claim.locator("caption")).to_contain_text("Bị từ chối một phần")
    expect(claim.locator("tr[data-rejected]")).to_contain_text(REJECTION)
    rejected.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "finance-remittance-rejected-line.png", full_page=True)


def test_finance_reconciles_the_month_and_sees_the_chart_and_every_discrepancy(office, page: Page, artifacts):
    page.set_default_timeout(10_000)
    page.goto(office.url + "/sign-in")
    page.get_by_label("Tên đăng nhập").fill("finance")
    page.get_by_label("Mật khẩu").fill("demo")
    page.get_by_label("Mật khẩu").press("Enter")
    expect(page).to_have_url(office.url + "/finance/")
    # the page's scripts give the form its submission id: sent before they ran, it is refused (NO_SUBMISSION_ID)
    ready(page)
    month = page.get_by_label("Tháng đề nghị thanh toán (các lượt khám ra viện trong tháng)")
    month.fill(PERIOD)
    month.press("Enter")
    expect(page).to_have_url(office.url + "/finance/batches/1")
    page.get_by_label("Tệp kết quả giám định của BHXH (CSV có dòng tiêu đề, hoặc JSON lines)").set_input_files(
        files=[{"name": "GIAMDINH_202610.csv", "mimeType": "text/csv", "buffer": REMITTANCE.encode()}])
    page.get_by_role("button", name="Tải lên").click()
    expect(page.locator("#remittance-result [data-rejected-line]")).to_have_count(1)

    page.goto(office.url + f"/finance/reconciliation?period={PERIOD}")
    page.get_by_role("button", name="Đối soát").click()
    done = page.locator("#run [data-state=done]")
    expect(done).to_be_visible()
    expect(done.locator("svg[role=img] rect")).to_have_count(9)  # seven totals, two kinds of discrepancy
    expect(done.locator("tr[data-kind=rejected_by_insurer]")).to_contain_text(REJECTION)
    expect(done.locator("tr[data-kind=patient_share_unpaid]")).to_have_count(1)
    page.screenshot(path=artifacts / "finance-reconciliation.png", full_page=True)
