"""The cashier desk over HTTP (fast): search, registration, the bill's split, QR through the session, the bank's
signed notice, cash once, card through localstripe, the customer display and the receipt."""

import io
import re
import uuid

import requests
import zxingcpp
from PIL import Image

from common.bank_simulator import notification, send
from tests.screens import cashier_desk
from tests.screens.cashier_desk import BANK_ACCOUNT, BANK_SECRET, CASHIER
from tests.screens.conftest import csrf_of, sign_in
from tests.support import wait_until

desk, localstripe, localstripe_server = cashier_desk.desk, cashier_desk.localstripe, cashier_desk.localstripe_server

NEW_PATIENT = {"cccd": "001192008765", "full_name": "Vũ Thị Ngọc Lan", "birth_date": "1992-08-17", "sex": "female",
               "phone": "0915667788", "address": "25 Phố Huế, Hai Bà Trưng, Hà Nội"}


def signed_in_cashier(hospital):
    client = hospital.client()
    sign_in(client, "cashier")
    return client, csrf_of(client, "/cashier/patients/new")


def htmx(csrf: str) -> dict:
    return {"X-CSRF-Token": csrf, "HX-Request": "true"}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def bill_now(hospital, invoice_id: int) -> dict:
    return hospital.client().get(f"/api/v1/billing/invoices/{invoice_id}", headers=CASHIER).get_json()


def test_one_search_box_finds_by_unaccented_name_cccd_card_and_phone(desk):
    client, _csrf = signed_in_cashier(desk)
    for typed in ("nguyen van an", "NGUYEN VAN", "001088012345", "DN4010123456789", "0912345678", "0123456789"):
        found = client.get("/cashier/patients", query_string={"q": typed}, headers={"HX-Request": "true"})
        assert found.status_code == 200 and "Nguyễn Văn An" in text_of(found), typed
        assert "Trần Thị Bích" not in text_of(found)
    whole_page = client.get("/cashier/?q=tran+thi+bich")
    assert "Trần Thị Bích" in text_of(whole_page) and "GD4791234567890" in text_of(whole_page)
    nobody = client.get("/cashier/patients?q=nguyen+van+zzz", headers={"HX-Request": "true"})
    assert "Không có bệnh nhân nào khớp" in text_of(nobody)
    assert client.get("/cashier/patients?q=%21%21", headers={"HX-Request": "true"}).status_code == 200


def test_the_cashier_registers_a_patient_their_card_and_a_visit(desk):
    client, csrf = signed_in_cashier(desk)
    registered = client.post("/cashier/patients", data={**NEW_PATIENT, "csrf_token": csrf,
                                                        "submission_id": str(uuid.uuid4())})
    assert registered.status_code == 303
    patient_page = registered.headers["Location"]
    patient_id = re.search(r"/patients/(\d+)", patient_page).group(1)
    again = client.post("/cashier/patients", data={**NEW_PATIENT, "csrf_token": csrf})
    assert again.status_code == 409 and f"/cashier/patients/{patient_id}" in text_of(again)
    assert "Đã có bệnh nhân đăng ký với số CCCD này" in text_of(again)
    card = {"card_number": "hc4010111222333", "registered_facility": "01013", "valid_from": "2026-01-01",
            "valid_to": "2027-12-31", "benefit_level": "80", "csrf_token": csrf}
    assert client.post(f"/cashier/patients/{patient_id}/cards", data=card).status_code == 303
    wrong_level = {**card, "card_number": "HC4010111222334", "benefit_level": "100"}
    refused = client.post(f"/cashier/patients/{patient_id}/cards", data=wrong_level)
    assert refused.status_code == 422 and "Hãy kiểm tra: Số thẻ BHYT." in text_of(refused)
    visit = {"kind": "outpatient", "department": "K01", "csrf_token": csrf}
    assert client.post(f"/cashier/patients/{patient_id}/visits", data=visit).status_code == 303
    page = text_of(client.get(f"/cashier/patients/{patient_id}"))
    assert "HC4010111222333" in page and "Vũ Thị Ngọc Lan" in page and "chưa có khoản nào" in page
    found = client.get("/cashier/patients?q=vu+thi+ngoc+lan", headers={"HX-Request": "true"})
    assert "HC4010111222333" in text_of(found)


def test_a_patient_is_registered_without_a_phone_or_an_address(desk):
    client, csrf = signed_in_cashier(desk)
    form = {**NEW_PATIENT, "cccd": "001090123456", "birth_date": "1990-03-02", "sex": "male", "phone": "",
            "address": " ", "csrf_token": csrf}
    registered = client.post("/cashier/patients", data=form)
    assert registered.status_code == 303, text_of(registered)  # was refused: "" is not a phone number
    patient_id = re.search(r"/patients/(\d+)", registered.headers["Location"]).group(1)
    assert client.get(f"/api/v1/patients/{patient_id}", headers=CASHIER).get_json()["phone"] == ""


def test_the_bill_shows_the_insurer_co_pay_and_outside_split_per_line(desk):
    client, _csrf = signed_in_cashier(desk)
    page = text_of(client.get(f"/cashier/bills/{desk.bill['id']}"))
    assert "HD000001" in page and "Nguyễn Văn An" in page and "Chưa thanh toán" in page
    ceftriaxone = re.search(r'<tr data-line="40.268">.*?</tr>', page, re.S).group(0)
    assert "280.000\u00a0₫" in ceftriaxone and "70.000\u00a0₫" in ceftriaxone
    outside = re.search(r'<tr data-line="VTM-BEROCCA">.*?</tr>', page, re.S).group(0)
    assert 'data-outside>60.000\u00a0₫' in outside and "ngoài danh mục BHYT" in outside
    assert "297.200\u00a0₫" in page and "74.300\u00a0₫" in page and "134.300\u00a0₫" in page
    through_visit = client.get("/cashier/visits/1/bill")
    assert through_visit.status_code == 302 and through_visit.headers["Location"].endswith("/cashier/bills/1")


def test_a_vietqr_is_shown_through_the_session_and_the_bank_notice_turns_the_bill_paid(desk):
    client, csrf = signed_in_cashier(desk)
    issued = client.post(f"/cashier/bills/{desk.bill['id']}/qr", data={"submission_id": str(uuid.uuid4())},
                         headers=htmx(csrf))
    assert issued.status_code == 200, text_of(issued)
    image_path = re.search(r'<img src="([^"]+qr\.png)"', text_of(issued)).group(1)
    png = client.get(image_path)
    assert png.status_code == 200 and png.mimetype == "image/png"
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert "HD000001" in decoded.text and "5406134300" in decoded.text and BANK_ACCOUNT in decoded.text
    assert desk.client().get(image_path).status_code == 302  # no session: to the sign-in page
    display_path = re.search(r'href="(/cashier/payment-requests/\d+/display)"', text_of(issued)).group(1)
    display = text_of(client.get(display_path))
    assert "134.300\u00a0₫" in display and "HD000001" in display and "Bệnh viện Đa khoa tỉnh" in display
    assert 'class="top"' not in display  # the customer sees no navigation
    status = client.get(f"/cashier/bills/{desk.bill['id']}/status", headers={"HX-Request": "true"})
    assert status.status_code == 200 and "Chưa thanh toán" in text_of(status)

    answer = send(desk.url, notification("HD000001", 134_300, BANK_ACCOUNT), BANK_SECRET)
    assert answer.status_code == 200 and answer.json()["status"] == "matched", answer.text
    status = client.get(f"/cashier/bills/{desk.bill['id']}/status", headers={"HX-Request": "true"})
    assert status.status_code == 286 and "Đã thanh toán" in text_of(status)  # 286: htmx stops polling
    paid_display = client.get(f"{display_path}/status", headers={"HX-Request": "true"})
    assert paid_display.status_code == 286 and "Đã thanh toán" in text_of(paid_display)
    paid_page = text_of(client.get(display_path))  # the customer is no longer asked to scan
    assert "Đã thanh toán" in paid_page and "Quét bằng ứng dụng ngân hàng" not in paid_page
    forged = send(desk.url, notification("HD000001", 134_300, BANK_ACCOUNT), "not-the-bank-secret-000000000")
    assert forged.status_code == 401


def test_cash_is_taken_once_for_a_resubmitted_form_and_the_receipt_prints(desk):
    client, csrf = signed_in_cashier(desk)
    form = {"amount": "134.300", "reason": "Thu tiền mặt tại quầy 2", "submission_id": str(uuid.uuid4())}
    first = client.post(f"/cashier/bills/{desk.bill['id']}/cash", data=form, headers=htmx(csrf))
    assert first.status_code == 200 and "134.300\u00a0₫" in text_of(first)
    again = client.post(f"/cashier/bills/{desk.bill['id']}/cash", data=form, headers=htmx(csrf))
    assert again.status_code == 200 and "không ghi hai lần" in text_of(again)
    paid = bill_now(desk, desk.bill["id"])
    assert paid["state"] == "paid" and paid["paid_amount"] == 134_300 and len(paid["payments"]) == 1
    too_much = client.post(f"/cashier/bills/{desk.bill['id']}/cash", headers=htmx(csrf),
                           data={**form, "submission_id": str(uuid.uuid4())})
    assert too_much.status_code == 409 and "Hoá đơn này không còn gì phải trả" in text_of(too_much)
    receipt = text_of(client.get(f"/cashier/bills/{desk.bill['id']}/receipt"))
    assert "PHIẾU THU" in receipt and "@media print" in receipt and "134.300\u00a0₫" in receipt
    assert "Bệnh viện Đa khoa tỉnh" in receipt and "tiền mặt" in receipt


def test_a_card_payment_goes_through_the_stripe_compatible_api_and_its_webhook(desk):
    client, csrf = signed_in_cashier(desk)
    asked = client.post(f"/cashier/bills/{desk.bill['id']}/card", data={"submission_id": str(uuid.uuid4())},
                        headers=htmx(csrf))
    assert asked.status_code == 200, text_of(asked)
    intent = re.search(r"\((pi_[A-Za-z0-9_]+)\)", text_of(asked)).group(1)
    terminal = {"Authorization": "Bearer sk_test_terminal"}
    requests.post(f"{desk.localstripe}/v1/payment_intents/{intent}", data={"payment_method": "pm_card_visa"},
                  headers=terminal, timeout=5).raise_for_status()
    requests.post(f"{desk.localstripe}/v1/payment_intents/{intent}/confirm", headers=terminal,
                  timeout=5).raise_for_status()
    wait_until(lambda: bill_now(desk, desk.bill["id"])["state"] == "paid", message="the card's signed webhook")
    assert "thẻ" in text_of(client.get(f"/cashier/bills/{desk.bill['id']}"))


def test_a_declined_card_is_said_at_once_in_the_cashiers_language(desk):
    client, csrf = signed_in_cashier(desk)
    asked = client.post(f"/cashier/bills/{desk.bill['id']}/card", data={"submission_id": str(uuid.uuid4())},
                        headers=htmx(csrf))
    page = asked.get_data(as_text=True)
    request_id = re.search(r'data-card-request="(\d+)"', page).group(1)
    assert f'hx-get="/cashier/payment-requests/{request_id}/card"' in page  # it polls while the terminal works
    waiting = client.get(f"/cashier/payment-requests/{request_id}/card", headers=htmx(csrf))
    assert waiting.status_code == 200 and 'data-state="pending"' in waiting.get_data(as_text=True)
    intent = re.search(r"\((pi_[A-Za-z0-9_]+)\)", text_of(asked)).group(1)
    terminal = {"Authorization": "Bearer sk_test_terminal"}
    requests.post(f"{desk.localstripe}/v1/payment_intents/{intent}", headers=terminal, timeout=5,
                  data={"payment_method": "pm_card_chargeCustomerFail"}).raise_for_status()
    declined = requests.post(f"{desk.localstripe}/v1/payment_intents/{intent}/confirm", headers=terminal, timeout=5)
    assert declined.status_code == 402
    wait_until(lambda: client.get(f"/cashier/payment-requests/{request_id}/card").status_code == 286,
               message="the payment_failed webhook")
    answered = client.get(f"/cashier/payment-requests/{request_id}/card", headers=htmx(csrf))
    assert "Thẻ bị từ chối: ngân hàng phát hành thẻ từ chối" in text_of(answered)
    assert "hx-get" not in answered.get_data(as_text=True) and "declined" not in text_of(answered)
    assert bill_now(desk, desk.bill["id"])["state"] == "open"


def test_only_the_cashier_opens_the_desk(desk):
    client = desk.client()
    sign_in(client, "labtech")
    assert client.get("/cashier/").status_code == 403
    assert client.get("/cashier/payment-requests/1/qr.png").status_code == 403


def test_the_cashier_closes_a_visit_with_its_icd10_diagnosis_so_finance_can_claim_it(hospital):
    client, csrf = signed_in_cashier(hospital)
    page = text_of(client.get("/cashier/patients/1"))  # Nguyễn Văn An, visit 1 open
    assert 'for="diagnosis_main"' in page and "Kết thúc lượt khám 1" in page
    form = {"csrf_token": csrf, "submission_id": str(uuid.uuid4())}
    refused = client.post("/cashier/visits/1/close", data={**form, "diagnosis_main": "đái tháo đường"})
    assert refused.status_code == 422 and "chưa được điền đúng" in text_of(refused)
    closed = client.post("/cashier/visits/1/close", data={**form, "submission_id": str(uuid.uuid4()),
                                                         "diagnosis_main": "e11.9", "diagnosis_other": "I10"})
    assert closed.status_code == 303 and closed.headers["Location"].endswith("/cashier/patients/1")
    visit = hospital.client().get("/api/v1/encounters/1", headers=CASHIER).get_json()
    assert (visit["status"], visit["diagnosis_main"]) == ("closed", "E11.9"), visit
    page = text_of(client.get("/cashier/patients/1"))
    assert "Kết thúc lượt khám 1" not in page and "đã đóng" in page and "Mở lượt khám" in page
