"""Immutable description of one visit's BHYT claim: the shared input of the XML (QĐ 130/4750) and FHIR exporters.

Money is integer đồng everywhere; the constructors reject anything that is not an ``int`` (a ``Decimal`` from the
database must be converted by the caller) so rounding can never hide inside an exporter. The line MUC_HUONG
(``benefit_level``) is the one number that may be a ``Decimal``: out of network it can be fractional (95 × 50 % =
47.5), as ``billing_service.insurance.visit_benefit_level`` returns. Each charge line is checked against the split
invariant of QĐ 130: T_BHTT + T_BNCCT + T_BNTT + T_NGUONKHAC = THANH_TIEN_BV, and THANH_TIEN_BV = SO_LUONG × DON_GIA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from common.bhyt import VISIT_KIND_CODES

# Visit kind → MA_LOAI_KCB (common.bhyt). Only the kinds this project produces; QĐ 130 has more (02 outpatient
# treatment, 04 day inpatient, ...): add them there and in fhir_export.CLAIM_TYPE_BY_VISIT_KIND together.
SEX_VALUES = ("male", "female", "unknown")
FUNDING_PARTS = ("state_budget_funding_amount", "foreign_aid_funding_amount", "domestic_aid_funding_amount",
                 "other_source_funding_amount")


def _require_int(owner: object, *names: str, minimum: int | None = 0) -> None:
    """Reject non-int (or negative) values for the named attributes."""
    for name in names:
        value = getattr(owner, name)
        if type(value) is not int:  # bool is an int subclass and Decimal/float must never slip in
            raise TypeError(f"{type(owner).__name__}.{name} must be int, got {type(value).__name__}")
        if minimum is not None and value < minimum:
            raise ValueError(f"{type(owner).__name__}.{name} must be >= {minimum}, got {value}")


def _require_percent(owner: object, *names: str) -> None:
    """Reject percentages that are not an int or finite Decimal in 0..100 (out-of-network MUC_HUONG may be 47.5)."""
    for name in names:
        value = getattr(owner, name)
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise TypeError(f"{type(owner).__name__}.{name} must be int or Decimal, got {type(value).__name__}")
        if not Decimal(value).is_finite() or not 0 <= value <= 100:
            raise ValueError(f"{type(owner).__name__}.{name} must be within 0..100, got {value}")


def _require_aware(owner: object, *names: str) -> None:
    """Reject naive datetimes: local-time conversion for the portal needs a known offset."""
    for name in names:
        value = getattr(owner, name)
        if value is None:
            continue
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{type(owner).__name__}.{name} must be a timezone-aware datetime")


@dataclass(frozen=True, kw_only=True)
class ClaimPatient:
    """Patient identity as printed on the claim (XML1 patient columns, FHIR Patient)."""

    patient_id: str  # MA_BN
    full_name: str  # HO_TEN, family name first as usual in Vietnam
    birth_date: date  # NGAY_SINH
    sex: str  # "male" | "female" | "unknown" → GIOI_TINH 1/2/3
    cccd: str  # SO_CCCD, 12 digits
    address: str = ""  # DIA_CHI

    def __post_init__(self) -> None:
        """Validate the identity fields."""
        if self.sex not in SEX_VALUES:
            raise ValueError(f"sex must be one of {SEX_VALUES}, got {self.sex!r}")
        if len(self.cccd) != 12 or not self.cccd.isascii() or not self.cccd.isdigit():
            raise ValueError(f"cccd must be 12 digits, got {self.cccd!r}")
        if not self.patient_id or not self.full_name:
            raise ValueError("patient_id and full_name are required")


@dataclass(frozen=True, kw_only=True)
class ClaimCoverage:
    """The BHYT card used for the visit."""

    card_number: str  # MA_THE_BHYT, 15 chars
    registered_facility: str  # MA_DKBD, 5 chars
    valid_from: date  # GT_THE_TU
    valid_to: date  # GT_THE_DEN
    benefit_level: int  # card benefit level in % (80, 95, 100)

    def __post_init__(self) -> None:
        """Validate card shape and period."""
        if len(self.card_number) != 15:
            raise ValueError(f"card_number must be 15 characters, got {self.card_number!r}")
        if len(self.registered_facility) != 5:
            raise ValueError(f"registered_facility must be 5 characters, got {self.registered_facility!r}")
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        _require_int(self, "benefit_level")


@dataclass(frozen=True, kw_only=True)
class _ChargeLine:
    """Money and ordering columns shared by drug (XML2) and service/supply (XML3) lines."""

    code: str  # MA_THUOC / MA_DICH_VU / MA_VAT_TU
    name: str  # TEN_THUOC / TEN_DICH_VU
    unit: str  # DON_VI_TINH
    insurance_scope: int = 1  # PHAM_VI: 1 in the BHYT list, 2 outside
    insurance_rate: int = 100  # TYLE_TT_BH, % of the item BHYT pays for (0 when outside)
    quantity: int  # SO_LUONG
    hospital_unit_price: int  # DON_GIA (XML2) / DON_GIA_BV (XML3)
    insurance_unit_price: int  # DON_GIA_BH (XML3); kept on drugs for the FHIR export
    hospital_amount: int  # THANH_TIEN_BV = quantity × hospital_unit_price
    insured_amount: int  # THANH_TIEN_BH
    benefit_level: int | Decimal  # MUC_HUONG, % for this line (Decimal only when out-of-network makes it fractional)
    other_funding_amount: int = 0  # T_NGUONKHAC = the four parts below
    state_budget_funding_amount: int = 0  # T_NGUONKHAC_NSNN
    foreign_aid_funding_amount: int = 0  # T_NGUONKHAC_VTNN
    domestic_aid_funding_amount: int = 0  # T_NGUONKHAC_VTTN
    other_source_funding_amount: int = 0  # T_NGUONKHAC_CL
    patient_outside_amount: int  # T_BNTT
    copay_amount: int  # T_BNCCT
    insurer_amount: int  # T_BHTT
    department_code: str = ""  # MA_KHOA
    doctor_code: str = ""  # MA_BAC_SI: practising-certificate number of who ordered it
    performer_code: str = ""  # NGUOI_THUC_HIEN: of who carried it out
    ordered_at: datetime  # NGAY_YL

    def __post_init__(self) -> None:
        """Validate money types and the per-line split invariant."""
        _require_int(
            self, "quantity", "hospital_unit_price", "insurance_unit_price", "hospital_amount", "insured_amount",
            "other_funding_amount", "patient_outside_amount", "copay_amount", "insurer_amount", "insurance_rate",
            *FUNDING_PARTS,
        )
        _require_percent(self, "benefit_level")
        if self.insurance_scope not in (1, 2):
            raise ValueError(f"insurance_scope (PHAM_VI) must be 1 or 2, got {self.insurance_scope!r}")
        if self.hospital_amount != self.quantity * self.hospital_unit_price:
            raise ValueError(f"line {self.code}: hospital_amount != quantity × hospital_unit_price")
        parts = self.insurer_amount + self.copay_amount + self.patient_outside_amount + self.other_funding_amount
        if parts != self.hospital_amount:
            raise ValueError(
                f"line {self.code}: T_BHTT + T_BNCCT + T_BNTT + T_NGUONKHAC = {parts} != THANH_TIEN_BV "
                f"{self.hospital_amount}"
            )
        funded = sum(getattr(self, name) for name in FUNDING_PARTS)
        if funded != self.other_funding_amount:
            raise ValueError(f"line {self.code}: parts of T_NGUONKHAC add up to {funded}, "
                             f"not {self.other_funding_amount}")
        _require_aware(self, "ordered_at")


@dataclass(frozen=True, kw_only=True)
class ClaimDrugLine(_ChargeLine):
    """One dispensed drug line (XML2)."""

    strength: str = ""  # HAM_LUONG
    route: str = ""  # DUONG_DUNG (route code)
    registration_number: str = ""  # SO_DANG_KY


@dataclass(frozen=True, kw_only=True)
class ClaimServiceLine(_ChargeLine):
    """One technical service or medical supply line (XML3); lab tests are services."""

    group_code: str  # MA_NHOM
    service_rate: int = 100  # TYLE_TT_DV, special service payment rate in %
    is_supply: bool = False  # True → code goes to MA_VAT_TU and the amount counts in XML1 T_VTYT
    result_at: datetime | None = None  # NGAY_KQ

    def __post_init__(self) -> None:
        """Validate as a charge line plus the service-only columns."""
        super().__post_init__()
        _require_int(self, "service_rate")
        _require_aware(self, "result_at")


@dataclass(frozen=True, kw_only=True)
class ClaimResultLine:
    """One paraclinical result value (XML4), e.g. a lab analyte."""

    service_code: str  # MA_DICH_VU of the ordered service
    indicator_code: str  # MA_CHI_SO, e.g. the LOINC code
    indicator_name: str  # TEN_CHI_SO
    value: str  # GIA_TRI, kept as text: results may be "Âm tính", "<0.1", ...
    unit: str = ""  # DON_VI_DO
    conclusion: str = ""  # KET_LUAN
    result_at: datetime  # NGAY_KQ

    def __post_init__(self) -> None:
        """Validate the result timestamp."""
        _require_aware(self, "result_at")


@dataclass(frozen=True, kw_only=True)
class ClaimVisit:
    """One visit (one HOSO, linked by MA_LK) with all its lines."""

    ma_lk: str  # unique visit key, ≤ 100 chars
    stt: int  # STT of the HOSO in the batch
    patient: ClaimPatient
    coverage: ClaimCoverage
    visit_kind: str  # key of VISIT_KIND_CODES
    diagnosis_main: str  # MA_BENH_CHINH, ICD-10
    diagnosis_other: tuple[str, ...] = ()  # MA_BENH_KT, ICD-10 codes
    admitted_at: datetime  # NGAY_VAO
    discharged_at: datetime  # NGAY_RA
    settlement_year: int  # NAM_QT
    settlement_month: int  # THANG_QT
    facility_code: str  # MA_CSKCB, 5 chars
    drug_lines: tuple[ClaimDrugLine, ...] = field(default=())
    service_lines: tuple[ClaimServiceLine, ...] = field(default=())
    result_lines: tuple[ClaimResultLine, ...] = field(default=())

    def __post_init__(self) -> None:
        """Validate visit keys and freeze line collections into tuples."""
        for name in ("diagnosis_other", "drug_lines", "service_lines", "result_lines"):
            object.__setattr__(self, name, tuple(getattr(self, name)))  # lists from callers would break hashing
        if not 0 < len(self.ma_lk) <= 100:
            raise ValueError("ma_lk must be 1..100 characters")
        if self.visit_kind not in VISIT_KIND_CODES:
            raise ValueError(f"visit_kind must be one of {sorted(VISIT_KIND_CODES)}, got {self.visit_kind!r}")
        if len(self.facility_code) != 5:
            raise ValueError(f"facility_code must be 5 characters, got {self.facility_code!r}")
        if not 1 <= self.settlement_month <= 12:
            raise ValueError(f"settlement_month must be 1..12, got {self.settlement_month}")
        _require_int(self, "stt", "settlement_year", "settlement_month")
        _require_aware(self, "admitted_at", "discharged_at")
        if self.discharged_at < self.admitted_at:
            raise ValueError("discharged_at is before admitted_at")

    @property
    def visit_kind_code(self) -> str:
        """Return MA_LOAI_KCB for this visit."""
        return VISIT_KIND_CODES[self.visit_kind]
