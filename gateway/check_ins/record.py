"""The check-in record of QĐ 4750/QĐ-BYT ("Bảng Check-in": the state of a visit) for one insured visit.

The table only announces that a visit is under way; it is not used for assessment or payment. Its columns, in the
decision's order, are CHECK_IN_COLUMNS. Filled here from what the gateway knows when the visit opens; the columns
about the visit's first service (MA_DICH_VU, MA_THUOC, MA_VAT_TU, their names, NGAY_YL) and the reason for inpatient
admission are left empty, as the decision allows when they are not known yet.
Assumptions, kept in one place: the file travels in the GIAMDINHHS envelope as LOAIHOSO "CHECKIN" with the root
CHECK_IN_ROOT, and MA_DOITUONG_KCB is "1" (in network) or "3" (out of network, trái tuyến).
"""

import xml.etree.ElementTree as ET
from datetime import date

from common.bhyt import (
    ENVELOPE_FOOTER,
    GENDER_CODES,
    VISIT_KIND_CODES,
    envelope_header,
    fill,
    format_date,
    format_datetime,
    hoso,
    serialize,
)
from gateway.models import Coverage, Encounter, Patient

CHECK_IN_KIND = "CHECKIN"  # LOAIHOSO
CHECK_IN_ROOT = "CHI_TIEU_TRANG_THAI_KCB"
CHECK_IN_COLUMNS = (
    "MA_LK", "STT", "MA_BN", "HO_TEN", "SO_CCCD", "NGAY_SINH", "GIOI_TINH", "MA_THE_BHYT", "MA_DKBD", "GT_THE_TU",
    "GT_THE_DEN", "MA_DOITUONG_KCB", "NGAY_VAO", "NGAY_VAO_NOI_TRU", "LY_DO_VNT", "MA_LY_DO_VNT", "MA_LOAI_KCB",
    "MA_CSKCB", "MA_DICH_VU", "TEN_DICH_VU", "MA_THUOC", "TEN_THUOC", "MA_VAT_TU", "TEN_VAT_TU", "NGAY_YL",
    "DU_PHONG",
)
PATIENT_CATEGORY = {True: "1", False: "3"}  # MA_DOITUONG_KCB by in_network


def check_in_values(encounter: Encounter, patient: Patient, card: Coverage, facility_code: str) -> dict[str, str]:
    """Return the check-in columns of a visit."""
    values = dict.fromkeys(CHECK_IN_COLUMNS, "")
    values.update({
        "MA_LK": str(encounter.id), "STT": "1", "MA_BN": str(patient.id), "HO_TEN": patient.full_name,
        "SO_CCCD": patient.cccd, "NGAY_SINH": format_date(patient.birth_date), "GIOI_TINH": GENDER_CODES[patient.sex],
        "MA_THE_BHYT": card.card_number, "MA_DKBD": card.registered_facility,
        "GT_THE_TU": format_date(card.valid_from), "GT_THE_DEN": format_date(card.valid_to),
        "MA_DOITUONG_KCB": PATIENT_CATEGORY[bool(encounter.in_network)],
        "NGAY_VAO": format_datetime(encounter.opened_at),
        "NGAY_VAO_NOI_TRU": format_datetime(encounter.opened_at) if encounter.kind == "inpatient" else "",
        "MA_LOAI_KCB": VISIT_KIND_CODES[encounter.kind], "MA_CSKCB": facility_code,
    })
    return values


def check_in_document(encounter: Encounter, patient: Patient, card: Coverage, facility_code: str,
                      created_on: date) -> bytes:
    """Return the GIAMDINHHS envelope carrying the visit's check-in file."""
    root = ET.Element(CHECK_IN_ROOT)
    fill(root, CHECK_IN_COLUMNS, check_in_values(encounter, patient, card, facility_code))
    return envelope_header(facility_code, created_on, 1) + hoso([(CHECK_IN_KIND, serialize(root))]) + ENVELOPE_FOOTER
