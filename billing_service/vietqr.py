"""VietQR (EMVCo merchant-presented QR, NAPAS 247 profile): build, parse, check and render transfer payloads."""

import io
import re

import qrcode
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

__all__ = [
    "VietQRError",
    "build_payload",
    "crc16_ccitt_false",
    "make_bill_reference",
    "parse_payload",
    "render_png",
    "render_svg",
]

NAPAS_GUID = "A000000727"
SERVICES = frozenset({"QRIBFTTA", "QRIBFTTC"})
CURRENCY_VND = "704"
MAX_PURPOSE_LENGTH = 25
_INITIATION = {"11": "static", "12": "dynamic"}
_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(r"[0-9A-Za-z]{1,19}")
_DIGITS = re.compile(r"[0-9]+")
_PURPOSE = re.compile(rf"[\x20-\x7e]{{1,{MAX_PURPOSE_LENGTH}}}")
_HEADER = re.compile(r"[0-9]{4}")
_PREFIX = re.compile(r"[A-Z]{1,6}")
_CRC_TAG = "6304"


class VietQRError(ValueError):
    """A VietQR payload, or an input used to build one, is invalid."""


def crc16_ccitt_false(data: bytes) -> int:
    """Compute CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def _crc_hex(text: str) -> str:
    """Return the CRC of the UTF-8 text as 4 uppercase hex digits."""
    return f"{crc16_ccitt_false(text.encode('utf-8')):04X}"


def _tlv(tag: str, value: str) -> str:
    """Encode one data object as ID + 2-digit length + value."""
    if len(value) > 99:
        raise VietQRError(f"value of tag {tag} is {len(value)} characters long; the maximum is 99")
    return f"{tag}{len(value):02d}{value}"


def _check_inputs(bank_bin: str, account: str, amount: int | None, purpose: str | None, service: str) -> None:
    """Raise VietQRError unless every build input is acceptable."""
    if not isinstance(bank_bin, str) or not _BIN.fullmatch(bank_bin):
        raise VietQRError(f"bank BIN must be exactly 6 digits, got {bank_bin!r}")
    if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
        raise VietQRError(f"account must be 1 to 19 ASCII letters or digits, got {account!r}")
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise VietQRError(f"amount must be an int number of đồng, got {type(amount).__name__}")
        if not 0 < amount < 10**13:
            raise VietQRError(f"amount must be a positive integer of at most 13 digits, got {amount}")
    if purpose is not None and (not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose)):
        raise VietQRError(
            f"purpose must be 1 to {MAX_PURPOSE_LENGTH} printable ASCII characters (None for no memo), got {purpose!r}"
        )
    if service not in SERVICES:
        raise VietQRError(f"service must be one of {sorted(SERVICES)}, got {service!r}")


def build_payload(
    bank_bin: str, account: str, amount: int | None = None, purpose: str | None = None, service: str = "QRIBFTTA"
) -> str:
    """Build a VietQR payload: static without an amount, dynamic with one, tags in ascending order, CRC last."""
    _check_inputs(bank_bin, account, amount, purpose, service)
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", service)
    initiation = "11" if amount is None else "12"
    parts = [_tlv("00", "01"), _tlv("01", initiation), _tlv("38", merchant), _tlv("53", CURRENCY_VND)]
    if amount is not None:
        parts.append(_tlv("54", str(amount)))
    parts.append(_tlv("58", "VN"))
    if purpose is not None:
        parts.append(_tlv("62", _tlv("08", purpose)))
    body = "".join(parts) + _CRC_TAG
    return body + _crc_hex(body)


def _split_tlv(text: str, where: str) -> dict[str, str]:
    """Split a run of data objects into {tag: value}, rejecting truncation, bad lengths and duplicates."""
    objects: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        header = text[pos : pos + 4]
        if len(header) < 4:
            raise VietQRError(f"{where}: truncated data object header {header!r} at position {pos}")
        if not _HEADER.fullmatch(header):
            raise VietQRError(f"{where}: tag and length must be 4 digits, got {header!r} at position {pos}")
        tag, length = header[:2], int(header[2:])
        value = text[pos + 4 : pos + 4 + length]
        if len(value) < length:
            raise VietQRError(f"{where}: tag {tag} declares {length} characters but only {len(value)} remain")
        if tag in objects:
            raise VietQRError(f"{where}: tag {tag} appears more than once")
        objects[tag] = value
        pos += 4 + length
    return objects


def _check_crc(text: str) -> str:
    """Verify the trailing 63 CRC object and return the payload body before it."""
    if len(text) < 8 or text[-8:-4] != _CRC_TAG:
        raise VietQRError("missing CRC: the payload must end with tag 63 (6304 + 4 hex digits)")
    expected, found = _crc_hex(text[:-4]), text[-4:]
    if found.upper() != expected:
        raise VietQRError(f"CRC mismatch: expected {expected}, found {found}")
    return text[:-8]


def _parse_merchant(value: str) -> dict[str, str | None]:
    """Parse the tag 38 VietQR merchant account template."""
    merchant = _split_tlv(value, "tag 38")
    if merchant.get("00") != NAPAS_GUID:
        raise VietQRError(f"tag 38: GUID must be {NAPAS_GUID} (NAPAS VietQR), got {merchant.get('00')!r}")
    if "01" not in merchant:
        raise VietQRError("tag 38: missing beneficiary (sub-tag 01)")
    beneficiary = _split_tlv(merchant["01"], "tag 38/01")
    if "00" not in beneficiary or "01" not in beneficiary:
        raise VietQRError("tag 38/01: beneficiary needs both a bank BIN (00) and an account (01)")
    return {"bank_bin": beneficiary["00"], "account": beneficiary["01"], "service": merchant.get("02")}


def parse_payload(text: str) -> dict:
    """Parse and check a VietQR payload whose data objects may come in any order."""
    if not isinstance(text, str):
        raise VietQRError(f"payload must be a str, got {type(text).__name__}")
    top = _split_tlv(_check_crc(text), "payload")
    if "63" in top:
        raise VietQRError("tag 63 (CRC) must be the last data object and appear once")
    if top.get("00") != "01":
        raise VietQRError(f"tag 00 (payload format indicator) must be '01', got {top.get('00')!r}")
    if "38" not in top:
        raise VietQRError("missing tag 38 (VietQR merchant account information)")
    if top.get("53") != CURRENCY_VND:
        raise VietQRError(f"tag 53 (currency) must be {CURRENCY_VND} (VND), got {top.get('53')!r}")
    amount = top.get("54")
    if amount is not None and not _DIGITS.fullmatch(amount):
        raise VietQRError(f"tag 54 (amount) must be digits only (integer đồng), got {amount!r}")
    initiation = top.get("01", "11" if amount is None else "12")
    if initiation not in _INITIATION:
        raise VietQRError(f"tag 01 (point of initiation) must be 11 or 12, got {initiation!r}")
    additional = _split_tlv(top.get("62", ""), "tag 62")
    result = _parse_merchant(top["38"])
    result.update(amount=None if amount is None else int(amount), purpose=additional.get("08"))
    result["initiation"] = _INITIATION[initiation]
    return result


def render_png(payload: str, box_size: int = 8) -> bytes:
    """Render the payload as a PNG QR code with qrcode's default segment optimisation."""
    qr = qrcode.QRCode(box_size=box_size)
    qr.add_data(payload)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(image_factory=PilImage).save(buffer, format="PNG")
    return buffer.getvalue()


def render_svg(payload: str) -> bytes:
    """Render the payload as a single-path SVG QR code (UTF-8 XML with declaration)."""
    buffer = io.BytesIO()
    qrcode.make(payload, image_factory=SvgPathImage).save(buffer)
    return buffer.getvalue()


def make_bill_reference(prefix: str, number: int) -> str:
    """Format a bill reference for the tag 62/08 memo.

    Format: 1-6 ASCII letters (upper-cased) followed by the non-negative number zero-padded to at least 6 digits,
    e.g. ("HD", 123) -> "HD000123". Only letters and digits are used because banks may strip punctuation and
    spaces from memos; the result is at most 25 characters so it fits the VietQR purpose field.
    """
    if not isinstance(prefix, str) or not prefix.isascii() or not _PREFIX.fullmatch(prefix.upper()):
        raise VietQRError(f"prefix must be 1 to 6 ASCII letters, got {prefix!r}")
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise VietQRError(f"number must be a non-negative int, got {number!r}")
    reference = f"{prefix.upper()}{number:06d}"
    if len(reference) > MAX_PURPOSE_LENGTH:
        raise VietQRError(f"reference {reference!r} is longer than {MAX_PURPOSE_LENGTH} characters")
    return reference
