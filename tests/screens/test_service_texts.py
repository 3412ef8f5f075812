"""Texts the services write in English are said in the user's language from the code and values sent beside them
(gateway/screens/texts.py); a code the screens do not know shows the service's sentence."""

import pytest

from gateway.screens import texts


@pytest.fixture
def gateway_app(make_app):
    return make_app("gateway")


def in_language(app, language: str):
    return app.test_request_context("/", headers={"Cookie": f"lang={language}"})


CARD_FINDING = {"rule": "card_not_valid_on_service_date", "message": "Card DN4010123450000 is valid ...",
                "message_code": "card_not_valid_on_day",
                "message_params": {"card_number": "DN4010123450000", "starts_on": "2026-10-21",
                                   "ends_on": "2027-10-20", "service_on": "2026-10-14"}}


def test_a_finding_is_said_in_vietnamese_and_english_with_dates_and_money_as_on_paper(gateway_app):
    price = {"message_code": "price_above_list", "message": "DON_GIA_BH 25000 đ is above ...",
             "message_params": {"price_amount": 25_000, "list_price_amount": 21_500, "code": "23.0075.1494"}}
    lots = {"message_code": "expired_lots", "message": "Dispensed from expired lot(s) ...",
            "message_params": {"lots": [{"lot_number": "AMX2401", "expires_on": "2026-09-30"}]}}
    late = {"message_code": "after_discharge", "message": "NGAY_YL ... is after discharge",
            "message_params": {"service_at": "2026-10-14T18:05:00+07:00", "discharged_at": "2026-10-14T11:30:00+07:00"}}
    with in_language(gateway_app, "vi"):
        assert texts.finding_text(CARD_FINDING) == ("Thẻ DN4010123450000 có giá trị từ 21/10/2026 đến 20/10/2027, "
                                                    "không có giá trị vào ngày y lệnh 14/10/2026.")
        assert texts.finding_text(price) == ("DON_GIA_BH 25.000\u00a0₫ cao hơn giá BHYT 21.500\u00a0₫ của "
                                             "23.0075.1494.")
        assert texts.finding_text(lots) == "Đã phát từ lô hết hạn: AMX2401 (30/09/2026)."
        assert texts.finding_text(late) == "NGAY_YL 14/10/2026 18:05 sau thời điểm ra viện (14/10/2026 11:30)."
    with in_language(gateway_app, "en"):
        assert texts.finding_text(CARD_FINDING) == ("Card DN4010123450000 is valid from 21/10/2026 to 20/10/2027, "
                                                    "not on the service date 14/10/2026.")


def test_an_unknown_code_or_values_of_another_shape_show_the_services_sentence(gateway_app):
    with in_language(gateway_app, "vi"):
        assert texts.finding_text({"message_code": "rule_of_next_year", "message": "Something new"}) == "Something new"
        assert texts.finding_text({"message": "Stored before codes existed"}) == "Stored before codes existed"
        assert texts.finding_text({**CARD_FINDING, "message_params": {}}) == CARD_FINDING["message"]
        assert texts.discrepancy_text({}) == "" and texts.run_step(None) == ""
        assert texts.run_step("new step") == "new step"


def test_reconciliation_details_remittance_rows_stock_card_reasons_and_run_steps_are_said(gateway_app):
    with in_language(gateway_app, "vi"):
        assert texts.discrepancy_text({"detail": "Bill HD000001: patient share 134300 đ, paid 0 đ",
                                       "detail_code": "patient_share_and_paid", "detail_params": {
                                           "reference": "HD000001", "share_amount": 134_300, "paid_amount": 0}}) == (
            "Hóa đơn HD000001: phần người bệnh phải trả 134.300\u00a0₫, đã trả 0\u00a0₫.")
        assert texts.discrepancy_text({"detail": "Xuất toán", "detail_code": "insurer_reason",
                                       "detail_params": {"reason": "Xuất toán"}}) == "Lý do của BHXH: Xuất toán"
        assert texts.row_reason({"reason": "No claimed XML3 line 9 for MA_LK LK-2026-3001.",
                                 "reason_code": "no_claimed_line",
                                 "reason_params": {"table": "XML3", "line_no": 9, "ma_lk": "LK-2026-3001"}}) == (
            "Không có dòng XML3 số 9 đã đề nghị thanh toán cho MA_LK LK-2026-3001.")
        assert texts.row_reason({"reason": "paid_on: Not a valid date.", "reason_code": "invalid_columns",
                                 "reason_params": {"columns": ["paid_amount", "paid_on"]}}) == (
            "Không đọc được các cột: paid_amount, paid_on.")
        assert texts.ledger_reason({"reason": "received from Roche", "reason_code": "received_from",
                                    "reason_params": {"supplier": "Roche"}}) == "nhập từ Roche"
        assert texts.ledger_reason({"reason": "Đổ vỡ khi vận chuyển", "reason_code": None}) == "Đổ vỡ khi vận chuyển"
        assert texts.ledger_reason({"reason": None}) == ""
        assert texts.run_step("insurer assessment") == "kết quả giám định của BHXH"
    with in_language(gateway_app, "en"):
        assert texts.ledger_reason({"reason_code": "received", "reason_params": {}, "reason": "received"}) == "received"
        assert texts.run_step("patient balances") == "patients' balances"


def test_every_step_a_reconciliation_run_reports_has_its_words():
    from billing_service.claims.services.reconciliation import STEPS

    assert {name for name, _check in STEPS} | {"starting", "totals", "done"} == set(texts.RUN_STEPS)
