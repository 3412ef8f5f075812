"""The pre-submission check: rules the BHYT assessment portal applies (QĐ 130/QĐ-BYT, QĐ 4750/QĐ-BYT), run over every
line of a batch before it is exported, so finance fixes them now instead of reading rejections weeks later.

Each rule names its finding and its severity. A critical finding blocks the export unless finance overrides the
batch (audited); a warning is listed only. A finding that the file itself could not carry (lines whose money does
not add up: the exporter refuses to write them) cannot be overridden.

Rules, per line (XML2/XML3):
- card_not_valid_on_service_date (critical): BHYT pays the line but the visit's card (XML1) is not valid that day.
- practitioner_missing (critical): no MA_BAC_SI: neither the line nor the visit names its doctor.
- performer_missing (warning): a lab service whose NGUOI_THUC_HIEN is empty.
- price_above_insurance_list (critical): DON_GIA_BH above the BHYT price list on the service date.
- out_of_scope_billed_to_insurer (critical): BHYT pays a line outside its list (PHAM_VI 2, TYLE_TT_BH 0, or a code
  the price list does not carry on that date).
- duplicate_line (warning): the same code on the same visit in the same minute as an earlier line.
- service_date_outside_visit (critical): NGAY_YL before NGAY_VAO or after NGAY_RA (to the minute, as the file does).
- totals_do_not_add_up (critical, not overridable): T_BHTT + T_BNCCT + T_BNTT + T_NGUONKHAC ≠ THANH_TIEN_BV,
  THANH_TIEN_BV ≠ SO_LUONG × DON_GIA, THANH_TIEN_BH > THANH_TIEN_BV, or the parts of T_NGUONKHAC ≠ its total.
- charge_changed_since_claimed (critical): the charge was reversed or re-split after the batch was built.
- unit_not_in_national_list (warning): DON_VI_TINH empty or an English word rather than the national list's name.
- lot_expired_when_dispensed (critical): a drug lot the line came from had expired on the service date.
- department_missing (warning): no MA_KHOA on the visit.
Per visit: diagnosis_missing (critical): MA_BENH_CHINH is not an ICD-10 code.
Per batch: price_list_missing (warning): no BHYT price list is loaded, so prices and scope were not checked.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from common import clock

ICD10 = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")
ENGLISH_UNITS = frozenset({"tablet", "tablets", "capsule", "capsules", "vial", "vials", "ampoule", "ampoules",
                           "bottle", "bag", "pen", "sachet", "tube", "box", "test", "tests", "unit", "units", "each"})
FUNDING_PARTS = ("state_budget_funding_amount", "foreign_aid_funding_amount", "domestic_aid_funding_amount",
                 "other_source_funding_amount")


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str  # critical | warning
    overridable: bool
    check: Callable


@dataclass(frozen=True)
class CheckedVisit:
    """What the rules need of a visit: its card, its times, its diagnosis, its doctor and department."""

    ma_lk: str
    card: dict | None
    opened_at: datetime
    discharged_at: datetime | None
    diagnosis_main: str
    doctor_code: str
    department_code: str


@dataclass(frozen=True)
class Said:
    """What a rule found: the English sentence (the API's `message`), and the same as a stable code with its values
    (`message_code`, `message_params`: amounts in đồng end in `_amount`, days in `_on`, moments in `_at`), so a
    screen says it in its user's language."""

    code: str
    text: str
    params: dict


def said(code: str, text: str, /, **params) -> Said:
    return Said(code, text, params)


def _local_minute(moment: datetime) -> str:
    return _minute(moment).isoformat()


class PriceList:
    """The BHYT price list by code: [(valid_from, valid_to or None, price)], looked up by service date."""

    def __init__(self, rows: list[tuple[str, date, date | None, int]]):
        self.by_code: dict[str, list[tuple[date, date | None, int]]] = {}
        for code, valid_from, valid_to, price in rows:
            self.by_code.setdefault(code, []).append((valid_from, valid_to, price))

    @property
    def loaded(self) -> bool:
        return bool(self.by_code)

    def price_on(self, code: str, day: date) -> int | None:
        """Return the list price of `code` valid on `day`, None when the list does not carry it then."""
        for valid_from, valid_to, price in sorted(self.by_code.get(code, ()), reverse=True):
            if valid_from <= day and (valid_to is None or day <= valid_to):
                return price
        return None


def service_day(line: dict) -> date:
    return clock.local_day(line["occurred_at"])


def _minute(moment: datetime) -> datetime:
    return clock.local_time(moment).replace(second=0, microsecond=0)


def card_not_valid(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """BHYT pays the line but the visit's card is not valid on the service date."""
    if line["insurer_amount"] <= 0:
        return None
    card, day = visit.card, service_day(line)
    if card is None:
        return said("no_card", f"BHYT pays {line['insurer_amount']} đ but the visit has no card",
                    insurer_amount=line["insurer_amount"])
    valid_from, valid_to = (date.fromisoformat(str(card[k])) for k in ("valid_from", "valid_to"))
    if valid_from <= day <= valid_to:
        return None
    return said("card_not_valid_on_day",
                f"Card {card['card_number']} is valid {valid_from}..{valid_to}, not on the service date {day}",
                card_number=card["card_number"], starts_on=valid_from.isoformat(), ends_on=valid_to.isoformat(),
                service_on=day.isoformat())


def practitioner_missing(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """No practitioner orders the line: MA_BAC_SI would be empty."""
    if line["ordered_by_code"] or visit.doctor_code:
        return None
    return said("no_practitioner", "Neither the line nor the visit names the practitioner who ordered it (MA_BAC_SI)")


def performer_missing(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """A lab service says nobody performed it: NGUOI_THUC_HIEN would be empty."""
    if line["xml_table"] != "XML3" or line["source"] != "lab" or line["performed_by_code"]:
        return None
    return said("no_performer", "The test run names no one who performed it (NGUOI_THUC_HIEN)")


def price_above_list(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """DON_GIA_BH is above the BHYT price list on the service date."""
    listed = prices.price_on(line["code"], service_day(line)) if line["insurer_amount"] > 0 else None
    if listed is None or line["insurance_unit_price_amount"] <= listed:
        return None
    return said("price_above_list", f"DON_GIA_BH {line['insurance_unit_price_amount']} đ is above the BHYT price "
                f"{listed} đ of {line['code']}", price_amount=line["insurance_unit_price_amount"],
                list_price_amount=listed, code=line["code"])


def out_of_scope_billed(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """BHYT pays a line outside its list."""
    if line["insurer_amount"] <= 0:
        return None
    if line["insurance_scope"] == 2 or line["insurance_rate"] == 0:
        return said("outside_bhyt_list",
                    f"{line['code']} is outside the BHYT list (PHAM_VI 2) yet BHYT pays {line['insurer_amount']} đ",
                    code=line["code"], insurer_amount=line["insurer_amount"])
    if prices.loaded and prices.price_on(line["code"], service_day(line)) is None:
        return said("not_on_price_list",
                    f"{line['code']} is not on the BHYT price list on {service_day(line)} yet BHYT pays for it",
                    code=line["code"], service_on=service_day(line).isoformat())
    return None


def outside_visit(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """The service date lies outside the visit's NGAY_VAO..NGAY_RA."""
    at = _minute(line["occurred_at"])
    if at < _minute(visit.opened_at):
        return said("before_visit", f"NGAY_YL {at:%d/%m/%Y %H:%M} is before the visit opened "
                    f"({_minute(visit.opened_at):%d/%m/%Y %H:%M})",
                    service_at=at.isoformat(), opened_at=_local_minute(visit.opened_at))
    if visit.discharged_at is not None and at > _minute(visit.discharged_at):
        return said("after_discharge",
                    f"NGAY_YL {at:%d/%m/%Y %H:%M} is after discharge ({_minute(visit.discharged_at):%d/%m/%Y %H:%M})",
                    service_at=at.isoformat(), discharged_at=_local_minute(visit.discharged_at))
    return None


def totals_do_not_add_up(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """The line's money columns contradict each other."""
    parts = line["insurer_amount"] + line["copay_amount"] + line["patient_outside_amount"] + line[
        "other_funding_amount"]
    if parts != line["hospital_amount"]:
        return said("parts_not_total",
                    f"T_BHTT + T_BNCCT + T_BNTT + T_NGUONKHAC = {parts} đ, THANH_TIEN_BV = {line['hospital_amount']} đ",
                    parts_amount=parts, hospital_amount=line["hospital_amount"])
    if line["hospital_amount"] != line["quantity"] * line["unit_price_amount"]:
        return said("total_not_quantity_times_price", f"THANH_TIEN_BV {line['hospital_amount']} đ ≠ SO_LUONG "
                    f"{line['quantity']} × DON_GIA {line['unit_price_amount']} đ",
                    hospital_amount=line["hospital_amount"], quantity=line["quantity"],
                    unit_price_amount=line["unit_price_amount"])
    if line["insured_amount"] > line["hospital_amount"]:
        return said("insured_above_total",
                    f"THANH_TIEN_BH {line['insured_amount']} đ is above THANH_TIEN_BV {line['hospital_amount']} đ",
                    insured_amount=line["insured_amount"], hospital_amount=line["hospital_amount"])
    funded = sum(line[name] for name in FUNDING_PARTS)
    if funded != line["other_funding_amount"]:
        return said("funding_parts_not_total",
                    f"The parts of T_NGUONKHAC add up to {funded} đ, not {line['other_funding_amount']} đ",
                    parts_amount=funded, other_funding_amount=line["other_funding_amount"])
    return None


def charge_changed(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """The charge behind the line changed after the batch was built (a reversal or a new split)."""
    if line["current_quantity"] == 0:
        return said("charge_reversed",
                    "The charge was reversed after the batch was built: the line claims a service no longer charged")
    if (line["current_hospital_amount"], line["current_insurer_amount"]) != (line["hospital_amount"],
                                                                             line["insurer_amount"]):
        return said("charge_changed", f"The charge is now {line['current_hospital_amount']} đ (BHYT "
                    f"{line['current_insurer_amount']} đ); the batch claims {line['hospital_amount']} đ (BHYT "
                    f"{line['insurer_amount']} đ)", now_amount=line["current_hospital_amount"],
                    now_insurer_amount=line["current_insurer_amount"], claimed_amount=line["hospital_amount"],
                    claimed_insurer_amount=line["insurer_amount"])
    return None


def unit_not_national(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """DON_VI_TINH is empty or an English word rather than the national list's name."""
    unit = (line["unit"] or "").strip()
    if unit and unit.lower() not in ENGLISH_UNITS:
        return None
    return said("unit_not_national", f"DON_VI_TINH {unit!r} is not as the national list writes it (Viên, Lọ, Ống, "
                "Lần...)", unit=unit)


def lot_expired(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """A drug lot the line came from had expired on the service date."""
    day = service_day(line)
    expired = [lot for lot in line["details"].get("lots") or []
               if lot.get("expires_on") and date.fromisoformat(str(lot["expires_on"])) < day]
    if line["xml_table"] != "XML2" or not expired:
        return None
    return said("expired_lots", "Dispensed from expired lot(s) " + ", ".join(
        f"{lot['lot_number']} ({lot['expires_on']})" for lot in expired),
        lots=[{"lot_number": lot["lot_number"], "expires_on": str(lot["expires_on"])} for lot in expired])


def department_missing(line: dict, visit: CheckedVisit, prices: PriceList) -> Said | None:
    """MA_KHOA would be empty."""
    return None if visit.department_code else said("no_department",
                                                   "The visit's department has no MA_KHOA code (K01, K26...)")


LINE_RULES = (
    Rule("card_not_valid_on_service_date", "critical", True, card_not_valid),
    Rule("practitioner_missing", "critical", True, practitioner_missing),
    Rule("performer_missing", "warning", True, performer_missing),
    Rule("price_above_insurance_list", "critical", True, price_above_list),
    Rule("out_of_scope_billed_to_insurer", "critical", True, out_of_scope_billed),
    Rule("service_date_outside_visit", "critical", True, outside_visit),
    Rule("totals_do_not_add_up", "critical", False, totals_do_not_add_up),
    Rule("charge_changed_since_claimed", "critical", True, charge_changed),
    Rule("unit_not_in_national_list", "warning", True, unit_not_national),
    Rule("lot_expired_when_dispensed", "critical", True, lot_expired),
    Rule("department_missing", "warning", True, department_missing),
)
DUPLICATE_LINE = Rule("duplicate_line", "warning", True, None)
DIAGNOSIS_MISSING = Rule("diagnosis_missing", "critical", True, None)
PRICE_LIST_MISSING = Rule("price_list_missing", "warning", True, None)
RULES = (*LINE_RULES, DUPLICATE_LINE, DIAGNOSIS_MISSING, PRICE_LIST_MISSING)


def finding(rule: Rule, message: Said, visit: CheckedVisit | None = None, line: dict | None = None,
            source: dict | None = None) -> dict:
    """Return one finding, named by its rule, on a line, a visit or the batch."""
    return {"rule": rule.name, "severity": rule.severity, "overridable": rule.overridable, "message": message.text,
            "message_code": message.code, "message_params": message.params,
            "ma_lk": visit.ma_lk if visit else None, "table": line["xml_table"] if line else None,
            "line_no": line["line_no"] if line else None, "claim_line_id": line["id"] if line else None,
            "invoice_line_id": line["invoice_line"] if line else None, "code": line["code"] if line else None,
            "source": source}


def check_visit(visit: CheckedVisit, lines: list[dict], prices: PriceList, source_of) -> Iterator[dict]:
    """Run every rule over one visit and its lines (in STT order); yield the findings."""
    if not ICD10.fullmatch(visit.diagnosis_main or ""):
        yield finding(DIAGNOSIS_MISSING, said("diagnosis_not_icd10", f"MA_BENH_CHINH {visit.diagnosis_main!r} is not "
                                              "an ICD-10 code", diagnosis=visit.diagnosis_main), visit)
    seen: dict[tuple, dict] = {}
    for line in lines:
        source = source_of(line)
        for rule in LINE_RULES:
            message = rule.check(line, visit, prices)
            if message:
                yield finding(rule, message, visit, line, source)
        same = (line["code"], _minute(line["occurred_at"]))
        if same in seen:
            first = seen[same]
            yield finding(DUPLICATE_LINE, said("same_code_and_minute", f"Same code and minute as {first['xml_table']} "
                                               f"line {first['line_no']}", table=first["xml_table"],
                                               line_no=first["line_no"]), visit, line, source)
        else:
            seen[same] = line
