"""VietQR payloads: public vectors, malformed input, an independent implementation, and images that scan back."""

import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from vietnam_qr_pay import QRPay, VietQRService

from billing_service.vietqr import (
    VietQRError,
    build_payload,
    crc16_ccitt_false,
    make_bill_reference,
    parse_payload,
    render_png,
    render_svg,
)

# Public test vectors copied from the VietQR reference (CRC verified independently there).
VECTOR_A = (
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA"
    "530370454061200005802VN62170813ung ho lu lut6304C15C"
)
VECTOR_B = "00020101021138540010A00000072701240006970423011000999999990208QRIBFTTA53037045802VN6304CBB4"
VECTOR_C = "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F"
VECTOR_D = (
    "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA"
    "53037045405100005802VN62150811Chuyen tien630453E6"
)
# Invalid: last CRC digit changed (the correct CRC is BBB8).
VECTOR_E = (
    "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA"
    "5303704540410005802VN62150811Chuyen tien6304BBB5"
)

VECTORS = {
    "A": (VECTOR_A, dict(bank_bin="970415", account="0011001932418", amount=120000, purpose="ung ho lu lut")),
    "B": (VECTOR_B, dict(bank_bin="970423", account="0099999999", amount=None, purpose=None)),
    "C": (VECTOR_C, dict(bank_bin="970416", account="257678859", amount=None, purpose=None)),
    "D": (VECTOR_D, dict(bank_bin="970416", account="257678859", amount=10000, purpose="Chuyen tien")),
}
BANK_BINS = ["970415", "970422", "970436", "970416", "970423"]  # VietinBank, MB, Vietcombank, ACB, TPBank


def _with_crc(body: str) -> str:
    """Append a correct 6304 CRC object so a test reaches the structural checks behind the CRC check."""
    body += "6304"
    return body + f"{crc16_ccitt_false(body.encode('utf-8')):04X}"


def _merchant(bank_bin: str = "970416", account: str = "257678859", guid: str = "A000000727") -> str:
    """Build a tag 38 object by hand."""
    beneficiary = f"0006{bank_bin}01{len(account):02d}{account}"
    inner = f"0010{guid}01{len(beneficiary):02d}{beneficiary}0208QRIBFTTA"
    return f"38{len(inner):02d}{inner}"


def test_the_crc_of_123456789_is_the_published_check_value_29b1():
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_the_crc_of_nothing_is_the_initial_value():
    assert crc16_ccitt_false(b"") == 0xFFFF


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_a_published_vector_parses_to_its_bank_account_amount_and_memo(name):
    payload, expected = VECTORS[name]
    parsed = parse_payload(payload)
    assert {key: parsed[key] for key in expected} == expected
    assert parsed["service"] == "QRIBFTTA"
    assert parsed["initiation"] == ("static" if expected["amount"] is None else "dynamic")


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_a_published_vector_is_rebuilt_character_for_character(name):
    payload, fields = VECTORS[name]
    assert build_payload(**fields) == payload


def test_a_cashier_qr_for_a_bill_is_dynamic_and_carries_amount_and_reference():
    payload = build_payload("970436", "1234567890", amount=250_000, purpose=make_bill_reference("HD", 123))
    assert payload.startswith("000201010212")
    assert "5406250000" in payload
    assert "62120808HD000123" in payload
    assert parse_payload(payload)["purpose"] == "HD000123"


def test_a_reusable_counter_qr_is_static_and_has_no_amount():
    payload = build_payload("970436", "1234567890")
    assert payload.startswith("000201010211")
    assert "53037045802VN6304" in payload  # no tag 54 between currency and country, no tag 62
    parsed = parse_payload(payload)
    assert parsed["amount"] is None and parsed["initiation"] == "static"


def test_a_card_number_transfer_uses_the_qribfttc_service():
    payload = build_payload("970422", "9704229200000000", service="QRIBFTTC")
    assert "0208QRIBFTTC" in payload
    assert parse_payload(payload)["service"] == "QRIBFTTC"


def test_a_tampered_crc_is_rejected_naming_expected_and_found():
    with pytest.raises(VietQRError, match="expected BBB8, found BBB5"):
        parse_payload(VECTOR_E)


def test_a_lowercase_crc_is_accepted_when_parsing():
    assert parse_payload(VECTOR_D[:-4] + VECTOR_D[-4:].lower())["amount"] == 10000


def test_tags_in_another_order_still_parse():
    # 58 and 53 swapped, 62 moved before 38, as some generators do.
    body = "000201010212" + "62150811Chuyen tien" + "5802VN" + _merchant() + "540510000" + "5303704"
    parsed = parse_payload(_with_crc(body))
    assert parsed == {
        "bank_bin": "970416",
        "account": "257678859",
        "service": "QRIBFTTA",
        "amount": 10000,
        "purpose": "Chuyen tien",
        "initiation": "dynamic",
    }


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "missing CRC"),
        ("0002", "missing CRC"),
        (VECTOR_D[:-8], "missing CRC"),
        (_with_crc("000201010212" + _merchant() + "530370454"), "truncated"),
        (_with_crc("000201010212" + _merchant() + "5303704549910000"), "declares 99"),
        (_with_crc("000201010212" + _merchant() + "53037045X0510000"), "4 digits"),
        (_with_crc("00020101021253037045802VN"), "missing tag 38"),
        (_with_crc("010212" + _merchant() + "53037045802VN"), "tag 00"),
        (_with_crc("000201010212" + _merchant(guid="A000000775") + "53037045802VN"), "GUID"),
        (_with_crc("000201010212" + _merchant() + "53038405802VN"), "currency"),
        (_with_crc("000201010212" + _merchant() + "5802VN"), "currency"),
        (_with_crc("000201010212" + _merchant() + "5303704540610000.5802VN"), "digits only"),
        (_with_crc("000201010213" + _merchant() + "53037045802VN"), "point of initiation"),
        (_with_crc("000201010212" + _merchant() + "530370453037045802VN"), "more than once"),
        (_with_crc("000201010212" + _merchant() + "53037046304ABCD"), "tag 63"),
        (_with_crc("000201010212" + "38140010A000000727" + "53037045802VN"), "beneficiary"),
        (_with_crc("000201010212" + "38280010A00000072701100006970416" + "53037045802VN"), "beneficiary"),
    ],
)
def test_a_malformed_payload_is_rejected_with_a_reason(payload, message):
    with pytest.raises(VietQRError, match=message):
        parse_payload(payload)


def test_a_non_string_payload_is_rejected():
    with pytest.raises(VietQRError):
        parse_payload(VECTOR_D.encode())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(bank_bin="97041", account="1"), "BIN"),
        (dict(bank_bin="97041X", account="1"), "BIN"),
        (dict(bank_bin="970416", account=""), "account"),
        (dict(bank_bin="970416", account="1" * 20), "account"),
        (dict(bank_bin="970416", account="123-456"), "account"),
        (dict(bank_bin="970416", account="1", amount=0), "positive"),
        (dict(bank_bin="970416", account="1", amount=-5), "positive"),
        (dict(bank_bin="970416", account="1", amount=10**13), "13 digits"),
        (dict(bank_bin="970416", account="1", amount=True), "int"),
        (dict(bank_bin="970416", account="1", amount=1000.0), "int"),
        (dict(bank_bin="970416", account="1", amount="1000"), "int"),
        (dict(bank_bin="970416", account="1", purpose=""), "purpose"),
        (dict(bank_bin="970416", account="1", purpose="x" * 26), "purpose"),
        (dict(bank_bin="970416", account="1", purpose="Thanh toán"), "purpose"),
        (dict(bank_bin="970416", account="1", purpose="line\nbreak"), "purpose"),
        (dict(bank_bin="970416", account="1", service="QRPUSH"), "service"),
    ],
)
def test_bad_build_inputs_are_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(VietQRError, match=message):
        build_payload(**kwargs)


def test_the_largest_13_digit_amount_and_a_25_character_memo_are_accepted():
    payload = build_payload("970416", "1" * 19, amount=10**13 - 1, purpose="x" * 25)
    parsed = parse_payload(payload)
    assert parsed["amount"] == 10**13 - 1 and parsed["purpose"] == "x" * 25 and parsed["account"] == "1" * 19


def test_vietqr_error_is_a_value_error():
    assert issubclass(VietQRError, ValueError)


@pytest.mark.parametrize(
    ("prefix", "number", "expected"),
    [("HD", 123, "HD000123"), ("hd", 0, "HD000000"), ("INV", 1234567, "INV1234567"), ("ABCDEF", 10**19 - 1, None)],
)
def test_a_bill_reference_is_letters_then_a_zero_padded_number(prefix, number, expected):
    reference = make_bill_reference(prefix, number)
    assert expected is None or reference == expected
    assert reference.isascii() and reference.isalnum() and reference == reference.upper() and len(reference) <= 25


@pytest.mark.parametrize(
    ("prefix", "number"), [("", 1), ("H-D", 1), ("HOADON1", 1), ("ĐH", 1), ("HD", -1), ("HD", True), ("ABCDEF", 10**19)]
)
def test_a_bill_reference_rejects_odd_prefixes_and_numbers(prefix, number):
    with pytest.raises(VietQRError):
        make_bill_reference(prefix, number)


# Independent implementation: vietnam-qr-pay (dev dependency). Where it and vietqr.md could disagree, the strategy is
# restricted to the unambiguous domain:
# - it takes the amount as a string and emits it verbatim, and treats any *falsy* value as "no amount" (so "" and
#   None are static) -- we only generate positive ints and hand it str(amount), which is vietqr.md's digits-only form;
# - it drops an empty memo instead of encoding "0800" -- we never generate an empty memo (our build rejects it);
# - it does no validation at all (lengths > 99, non-ASCII, 0 amounts) -- we stay inside our validated domain.
bins = st.sampled_from(BANK_BINS)
accounts = st.text(alphabet="0123456789", min_size=1, max_size=19)
amounts = st.none() | st.integers(min_value=1, max_value=10**13 - 1)
memos = st.none() | st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=25)
services = st.sampled_from(["QRIBFTTA", "QRIBFTTC"])


@settings(max_examples=200, deadline=None)
@given(bank_bin=bins, account=accounts, amount=amounts, purpose=memos, service=services)
def test_our_payload_matches_vietnam_qr_pay_and_parses_back_to_the_same_fields(
    bank_bin, account, amount, purpose, service
):
    ours = build_payload(bank_bin, account, amount=amount, purpose=purpose, service=service)
    theirs = QRPay.init_viet_qr(
        bank_bin=bank_bin,
        bank_number=account,
        amount=None if amount is None else str(amount),
        purpose=purpose,
        service=VietQRService(service),
    ).build()
    assert ours == theirs
    assert QRPay(ours).is_valid
    assert parse_payload(ours) == {
        "bank_bin": bank_bin,
        "account": account,
        "service": service,
        "amount": amount,
        "purpose": purpose,
        "initiation": "static" if amount is None else "dynamic",
    }


@pytest.mark.parametrize("payload", [VECTOR_A, VECTOR_C], ids=["dynamic", "static"])
def test_the_png_a_patient_scans_decodes_to_the_exact_payload(payload):
    png = render_png(payload)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [result.text for result in results] == [payload]


def test_a_bigger_box_size_gives_a_bigger_png():
    small = Image.open(io.BytesIO(render_png(VECTOR_D, box_size=4)))
    large = Image.open(io.BytesIO(render_png(VECTOR_D, box_size=10)))
    assert large.size[0] > small.size[0]


def test_the_svg_is_well_formed_xml_with_an_svg_root():
    svg = render_svg(VECTOR_D)
    root = ET.fromstring(svg)
    assert root.tag.rsplit("}", 1)[-1] == "svg"
    assert b"<path" in svg or b":path" in svg
