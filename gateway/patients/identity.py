"""Shape rules of Vietnamese identity documents: the chip ID card (CCCD) and the BHYT health-insurance card.

CCCD (Circular 07/2016/TT-BCA): 3 digits of the province of birth registration, 1 digit for century and sex
(0/1 = 1900s male/female, 2/3 = 2000s, 4/5 = 2100s), 2 digits of the birth year, 6 serial digits.
BHYT card (QĐ 1351/QĐ-BHXH): 2 letters of the beneficiary group, 1 digit of the benefit code, 2 digits of the
province, 10 digits of the social-insurance number; the benefit code fixes the benefit level.
"""

import re
from datetime import date

CCCD_PROVINCES = frozenset({
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022", "024", "025",
    "026", "027", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042", "044", "045", "046", "048",
    "049", "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068", "070", "072", "074", "075",
    "077", "079", "080", "082", "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
})
CARD_PATTERN = re.compile(r"^[A-Z]{2}[1-5]\d{12}$")
BENEFIT_LEVEL_BY_CODE = {"1": 100, "2": 100, "3": 95, "4": 80, "5": 100}
FACILITY_PATTERN = re.compile(r"^[0-9A-Z]{5}$")
ICD10_PATTERN = re.compile(r"^[A-Z]\d{2}(\.?[0-9A-Z]{1,2})?$")


def cccd_problems(cccd: str, birth_date: date | None = None, sex: str | None = None) -> list[str]:
    """Return what is wrong with a CCCD number (and its match with the birth date and sex); empty when valid."""
    if not re.fullmatch(r"\d{12}", cccd or ""):
        return ["A CCCD number is exactly 12 digits."]
    if cccd[:3] not in CCCD_PROVINCES:
        return [f"{cccd[:3]} is not a province code of a CCCD number."]
    problems = []
    century_digit, year_digits = int(cccd[3]), cccd[4:6]
    if birth_date is not None:
        century = 1900 + 100 * (century_digit // 2)
        if birth_date.year // 100 * 100 != century or f"{birth_date.year % 100:02d}" != year_digits:
            problems.append(f"The CCCD encodes a birth year of {century + int(year_digits)}, "
                            f"not {birth_date.year}.")
    if sex in ("male", "female"):
        encoded = "female" if century_digit % 2 else "male"
        if encoded != sex:
            problems.append(f"The CCCD encodes sex {encoded}, not {sex}.")
    return problems


def card_problems(card_number: str, benefit_level: int | None = None) -> list[str]:
    """Return what is wrong with a BHYT card number (and its match with the benefit level); empty when valid."""
    if not CARD_PATTERN.fullmatch(card_number or ""):
        return ["A BHYT card number is 15 characters: 2 letters, a benefit digit 1-5, 2 province digits, "
                "10 digits (e.g. DN4010123456789)."]
    expected = BENEFIT_LEVEL_BY_CODE[card_number[2]]
    if benefit_level is not None and benefit_level != expected:
        return [f"Benefit code {card_number[2]} on the card means {expected} %, not {benefit_level} %."]
    return []


def icd10_codes(text: str | None) -> list[str]:
    """Split a ';'-separated list of ICD-10 codes, as MA_BENH_KT writes them."""
    return [code.strip() for code in (text or "").split(";") if code.strip()]
