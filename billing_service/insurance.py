"""Split one claim line's money between BHYT, the patient and other funding (QĐ 130/QĐ-BYT as amended by QĐ 4750).

All money is integer đồng; percentages are int or Decimal; rounding is half-up via common.money. No floats.
"""

from dataclasses import dataclass
from decimal import Decimal, localcontext

from common.money import percent_of, round_half_up

__all__ = [
    "BASE_SALARY_AMOUNT",
    "CARD_LEVELS",
    "FUNDING_TARGETS",
    "InsuranceRuleError",
    "LineSplit",
    "line_amounts",
    "low_cost_visit",
    "split_funded_line",
    "split_line",
    "visit_benefit_level",
]

CARD_LEVELS = frozenset({80, 95, 100})
FUNDING_TARGETS = frozenset({"patient", "facility"})
BASE_SALARY_AMOUNT = 2_340_000  # mức lương cơ sở, đồng/month
LOW_COST_PERCENT = 15  # a visit insured total strictly below 15 % of the base salary is paid at 100 %


class InsuranceRuleError(ValueError):
    """An input breaks a BHYT money rule (negative amount, impossible split, unknown level...)."""


@dataclass(frozen=True)
class LineSplit:
    """Money of one XML2/XML3 line; insurer + copay + outside + other funding == hospital amount."""

    insurer_amount: int  # T_BHTT
    copay_amount: int  # T_BNCCT
    patient_outside_amount: int  # T_BNTT
    other_funding_amount: int  # T_NGUONKHAC
    hospital_amount: int  # THANH_TIEN_BV
    insured_amount: int  # THANH_TIEN_BH
    benefit_level: int | Decimal  # MUC_HUONG

    @property
    def patient_amount(self) -> int:
        """Return what the patient pays in total: co-pay plus the part outside insurance."""
        return self.copay_amount + self.patient_outside_amount


def _amount(value: object, name: str) -> int:
    """Return value if it is a non-negative int number of đồng, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InsuranceRuleError(f"{name} must be an int number of đồng, got {type(value).__name__}")
    if value < 0:
        raise InsuranceRuleError(f"{name} must not be negative, got {value}")
    return value


def _number(value: object, name: str) -> Decimal:
    """Return value as a Decimal if it is a non-negative finite int or Decimal, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InsuranceRuleError(f"{name} must be an int or Decimal (never float), got {type(value).__name__}")
    if not Decimal(value).is_finite() or value < 0:
        raise InsuranceRuleError(f"{name} must be a non-negative finite number, got {value}")
    return Decimal(value)


def _percent(value: object, name: str) -> Decimal:
    """Return value as a Decimal if it is a percentage in 0..100, else raise."""
    result = _number(value, name)
    if result > 100:
        raise InsuranceRuleError(f"{name} must be between 0 and 100, got {value}")
    return result


def _deduct(amount: int, funding: int) -> tuple[int, int]:
    """Take as much of funding as possible out of amount; return (amount left, funding left)."""
    taken = min(amount, funding)
    return amount - taken, funding - taken


def split_line(
    hospital_amount: int,
    insured_amount: int,
    benefit_level: int | Decimal,
    other_funding: int = 0,
    funding_to: str = "patient",
) -> LineSplit:
    """Split a line into T_BHTT, T_BNCCT, T_BNTT and T_NGUONKHAC, with one amount of other funding.

    Without funding: T_BNTT = BV - BH, T_BHTT = BH x MUC_HUONG / 100 (half-up), T_BNCCT = BH - T_BHTT.
    funding_to="patient": the funding is taken from T_BNTT first, then T_BNCCT, then T_BHTT.
    funding_to="facility": the funding is taken off the line total first (BV' = BV - funding,
    BH' = min(BH, BV')) and BV', BH' are split normally; the result reports BH' as insured_amount.
    hospital_amount is always the original BV, so insurer + copay + outside + funding == BV.
    """
    if funding_to not in FUNDING_TARGETS:
        raise InsuranceRuleError(f"funding_to must be one of {sorted(FUNDING_TARGETS)}, got {funding_to!r}")
    if funding_to == "facility":
        return split_funded_line(hospital_amount, insured_amount, benefit_level, facility_funding=other_funding)
    return split_funded_line(hospital_amount, insured_amount, benefit_level, patient_funding=other_funding)


def split_funded_line(
    hospital_amount: int,
    insured_amount: int,
    benefit_level: int | Decimal,
    facility_funding: int = 0,
    patient_funding: int = 0,
) -> LineSplit:
    """Split a line carrying both kinds of other funding: the facility's first, then the patient's.

    Funding given to the facility comes off the line total (BV' = BV - facility, BH' = min(BH, BV')), BV' and BH'
    are split normally, and funding given to the patient is then taken from T_BNTT, T_BNCCT and T_BHTT in that
    order. T_NGUONKHAC is the sum of both; insurer + copay + outside + T_NGUONKHAC == BV.
    """
    _amount(hospital_amount, "hospital_amount")
    _amount(insured_amount, "insured_amount")
    _amount(facility_funding, "facility_funding")
    _amount(patient_funding, "patient_funding")
    _percent(benefit_level, "benefit_level")
    if insured_amount > hospital_amount:
        raise InsuranceRuleError(f"insured amount {insured_amount} exceeds hospital amount {hospital_amount}")
    other_funding = facility_funding + patient_funding
    if other_funding > hospital_amount:
        raise InsuranceRuleError(f"other funding {other_funding} exceeds hospital amount {hospital_amount}")
    payable = hospital_amount - facility_funding
    insured = min(insured_amount, payable)
    insurer = percent_of(insured, benefit_level)
    copay = insured - insurer
    outside = payable - insured
    outside, left = _deduct(outside, patient_funding)
    copay, left = _deduct(copay, left)
    insurer, left = _deduct(insurer, left)
    return LineSplit(
        insurer_amount=insurer,
        copay_amount=copay,
        patient_outside_amount=outside,
        other_funding_amount=other_funding,
        hospital_amount=hospital_amount,
        insured_amount=insured,
        benefit_level=benefit_level,
    )


def line_amounts(
    quantity: int | Decimal,
    hospital_unit_price: int | Decimal,
    insurance_unit_price: int | Decimal,
    insurance_rate: int | Decimal = 100,
    service_rate: int | Decimal = 100,
) -> tuple[int, int]:
    """Return (THANH_TIEN_BV, THANH_TIEN_BH) for a line, each rounded half-up once.

    THANH_TIEN_BV = SO_LUONG x DON_GIA_BV; THANH_TIEN_BH = SO_LUONG x DON_GIA_BH x TYLE_TT_BH/100 x TYLE_TT_DV/100,
    where DON_GIA_BH is capped at DON_GIA_BV (insurance never pays on more than the hospital charged).
    """
    qty = _number(quantity, "quantity")
    hospital_price = _number(hospital_unit_price, "hospital_unit_price")
    insurance_price = min(_number(insurance_unit_price, "insurance_unit_price"), hospital_price)
    rates = _percent(insurance_rate, "insurance_rate") * _percent(service_rate, "service_rate")
    with localcontext() as ctx:
        ctx.prec = 60  # exact: no realistic quantity x price x rates needs more digits
        hospital = round_half_up(qty * hospital_price)
        insured = round_half_up(qty * insurance_price * rates / 10_000)
    return hospital, min(insured, hospital)


def low_cost_visit(insured_total: int, base_salary_amount: int = BASE_SALARY_AMOUNT) -> bool:
    """Tell whether an in-network visit's insured total is below 15 % of the base salary (strictly): paid at 100 %."""
    return insured_total * 100 < LOW_COST_PERCENT * base_salary_amount


def visit_benefit_level(
    card_level: int,
    in_network: bool = True,
    network_rate: int | Decimal = 100,
    insured_total: int = 0,
    base_salary_amount: int = BASE_SALARY_AMOUNT,
) -> Decimal | int:
    """Return the visit's MUC_HUONG from the card level, network status and the visit's insured total.

    In network: 100 when insured_total < 15 % of the base salary (strictly; 351 000 đồng at 2 340 000), else the
    card level. Out of network: card level x network_rate / 100 (80 x 40 -> 32), an int when exact, else a Decimal;
    the low-cost 100 % rule is applied to in-network visits only.
    """
    if isinstance(card_level, bool) or not isinstance(card_level, int) or card_level not in CARD_LEVELS:
        raise InsuranceRuleError(f"card level must be one of {sorted(CARD_LEVELS)}, got {card_level!r}")
    rate = _percent(network_rate, "network_rate")
    _amount(insured_total, "insured_total")
    if _amount(base_salary_amount, "base_salary_amount") == 0:
        raise InsuranceRuleError("base_salary_amount must be positive")
    if in_network:
        return 100 if low_cost_visit(insured_total, base_salary_amount) else card_level
    level = Decimal(card_level) * rate / 100
    return int(level) if level == level.to_integral_value() else level.normalize()
