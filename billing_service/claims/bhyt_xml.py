"""Streaming exporter of the BHYT assessment envelope (GIAMDINHHS) per QĐ 130/QĐ-BYT as amended by QĐ 4750/QĐ-BYT.

Layout decisions:
- One chunk for the envelope header, one per HOSO (visit), one footer, so memory stays flat however many visits.
- SOLUONGHOSO sits in the header, so the caller passes ``visit_count`` up front; if the iterable yields a different
  number of visits the generator raises ``ValueError`` instead of writing the footer, so a truncated/incoherent file
  can never look complete.
- XML1 is always sent. XML2, XML3 and XML4 are sent only when the visit has rows for them (a visit with no lab
  results has no XML4): an empty detail table carries no information and the portal links tables by MA_LK.
- Columns we have no data for are not emitted at all (the reference says fill what we know, never invent);
  the emitted order of each table lives in one constant (XML1_COLUMNS, XML2_COLUMNS, ...).
- Dates are ``yyyymmdd``; date-times ``yyyymmddHHMM`` in Asia/Ho_Chi_Minh; money is integer đồng.
- CHUKYDONVI (facility signature) is left empty: signing is out of scope.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal

from billing_service.claims.records import (
    ClaimDrugLine,
    ClaimResultLine,
    ClaimServiceLine,
    ClaimVisit,
)
from common.bhyt import (
    ENVELOPE_FOOTER,
    GENDER_CODES,
    envelope_header,
    format_date,
    format_datetime,
    hoso,
)
from common.bhyt import fill as _fill
from common.bhyt import serialize as _serialize

__all__ = ["GENDER_CODES", "format_date", "format_datetime", "iter_giamdinhhs", "parse_giamdinhhs"]

XML1_COLUMNS = (
    "MA_LK", "STT", "MA_BN", "HO_TEN", "SO_CCCD", "NGAY_SINH", "GIOI_TINH", "DIA_CHI", "MA_THE_BHYT", "MA_DKBD",
    "GT_THE_TU", "GT_THE_DEN", "MA_BENH_CHINH", "MA_BENH_KT", "NGAY_VAO", "NGAY_RA", "T_THUOC", "T_VTYT",
    "T_TONGCHI_BV", "T_TONGCHI_BH", "T_BNTT", "T_BNCCT", "T_BHTT", "T_NGUONKHAC", "NAM_QT", "THANG_QT",
    "MA_LOAI_KCB", "MA_CSKCB",
)
# Money column order follows the decision's table as given in the reference; sources disagree, change it here only.
XML2_COLUMNS = (
    "MA_LK", "STT", "MA_THUOC", "TEN_THUOC", "DON_VI_TINH", "HAM_LUONG", "DUONG_DUNG", "SO_DANG_KY", "PHAM_VI",
    "TYLE_TT_BH", "SO_LUONG", "DON_GIA", "THANH_TIEN_BV", "THANH_TIEN_BH", "T_NGUONKHAC_NSNN", "T_NGUONKHAC_VTNN",
    "T_NGUONKHAC_VTTN", "T_NGUONKHAC_CL", "T_NGUONKHAC", "MUC_HUONG", "T_BNTT", "T_BNCCT", "T_BHTT", "MA_KHOA",
    "MA_BAC_SI", "NGAY_YL",
)
XML3_COLUMNS = (
    "MA_LK", "STT", "MA_DICH_VU", "MA_VAT_TU", "MA_NHOM", "TEN_DICH_VU", "DON_VI_TINH", "PHAM_VI", "SO_LUONG",
    "DON_GIA_BV", "DON_GIA_BH", "TYLE_TT_DV", "TYLE_TT_BH", "THANH_TIEN_BV", "THANH_TIEN_BH", "MUC_HUONG",
    "T_NGUONKHAC_NSNN", "T_NGUONKHAC_VTNN", "T_NGUONKHAC_VTTN", "T_NGUONKHAC_CL", "T_NGUONKHAC", "T_BNTT", "T_BNCCT",
    "T_BHTT", "MA_KHOA", "MA_BAC_SI", "NGUOI_THUC_HIEN", "NGAY_YL", "NGAY_KQ",
)
XML4_COLUMNS = (
    "MA_LK", "STT", "MA_DICH_VU", "MA_CHI_SO", "TEN_CHI_SO", "GIA_TRI", "DON_VI_DO", "KET_LUAN", "NGAY_KQ",
)

# LOAIHOSO → (root, list element, row element) of the inner file; XML1 has no rows, its root holds the columns.
TABLE_PATHS = {
    "XML1": ("TONG_HOP", None, None),
    "XML2": ("CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC"),
    "XML3": ("CHITIEU_CHITIET_DVKT_VTYT", "DSACH_CHI_TIET_DVKT", "CHI_TIET_DVKT"),
    "XML4": ("CHITIEU_CHITIET_DICHVUCANLAMSANG", "DSACH_CHI_TIET_CLS", "CHI_TIET_CLS"),
}


def format_number(value: int | Decimal) -> str:
    """Format an int or Decimal with '.' as decimal separator and no exponent."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def _money_split(line: ClaimDrugLine | ClaimServiceLine) -> dict[str, str]:
    """Return the money-split columns common to XML2 and XML3."""
    return {
        "PHAM_VI": str(line.insurance_scope),
        "TYLE_TT_BH": str(line.insurance_rate),
        "SO_LUONG": str(line.quantity),
        "THANH_TIEN_BV": str(line.hospital_amount),
        "THANH_TIEN_BH": str(line.insured_amount),
        "T_NGUONKHAC_NSNN": str(line.state_budget_funding_amount),
        "T_NGUONKHAC_VTNN": str(line.foreign_aid_funding_amount),
        "T_NGUONKHAC_VTTN": str(line.domestic_aid_funding_amount),
        "T_NGUONKHAC_CL": str(line.other_source_funding_amount),
        "T_NGUONKHAC": str(line.other_funding_amount),
        "MUC_HUONG": format_number(line.benefit_level),
        "T_BNTT": str(line.patient_outside_amount),
        "T_BNCCT": str(line.copay_amount),
        "T_BHTT": str(line.insurer_amount),
        "MA_KHOA": line.department_code,
        "MA_BAC_SI": line.doctor_code,
        "NGAY_YL": format_datetime(line.ordered_at),
    }


def xml1_values(visit: ClaimVisit) -> dict[str, str]:
    """Return the XML1 (TONG_HOP) columns; totals are the sums of the XML2 and XML3 lines."""
    lines = (*visit.drug_lines, *visit.service_lines)
    patient, card = visit.patient, visit.coverage
    return {
        "MA_LK": visit.ma_lk, "STT": str(visit.stt), "MA_BN": patient.patient_id, "HO_TEN": patient.full_name,
        "SO_CCCD": patient.cccd, "NGAY_SINH": format_date(patient.birth_date),
        "GIOI_TINH": GENDER_CODES[patient.sex], "DIA_CHI": patient.address,
        "MA_THE_BHYT": card.card_number, "MA_DKBD": card.registered_facility,
        "GT_THE_TU": format_date(card.valid_from), "GT_THE_DEN": format_date(card.valid_to),
        "MA_BENH_CHINH": visit.diagnosis_main, "MA_BENH_KT": ";".join(visit.diagnosis_other),
        "NGAY_VAO": format_datetime(visit.admitted_at), "NGAY_RA": format_datetime(visit.discharged_at),
        "T_THUOC": str(sum(line.hospital_amount for line in visit.drug_lines)),
        "T_VTYT": str(sum(line.hospital_amount for line in visit.service_lines if line.is_supply)),
        "T_TONGCHI_BV": str(sum(line.hospital_amount for line in lines)),
        "T_TONGCHI_BH": str(sum(line.insured_amount for line in lines)),
        "T_BNTT": str(sum(line.patient_outside_amount for line in lines)),
        "T_BNCCT": str(sum(line.copay_amount for line in lines)),
        "T_BHTT": str(sum(line.insurer_amount for line in lines)),
        "T_NGUONKHAC": str(sum(line.other_funding_amount for line in lines)),
        "NAM_QT": str(visit.settlement_year), "THANG_QT": str(visit.settlement_month),
        "MA_LOAI_KCB": visit.visit_kind_code, "MA_CSKCB": visit.facility_code,
    }


def xml2_values(ma_lk: str, stt: int, line: ClaimDrugLine) -> dict[str, str]:
    """Return one XML2 (drug) row."""
    return {
        "MA_LK": ma_lk, "STT": str(stt), "MA_THUOC": line.code, "TEN_THUOC": line.name,
        "DON_VI_TINH": line.unit, "HAM_LUONG": line.strength, "DUONG_DUNG": line.route,
        "SO_DANG_KY": line.registration_number, "DON_GIA": str(line.hospital_unit_price),
        **_money_split(line),
    }


def xml3_values(ma_lk: str, stt: int, line: ClaimServiceLine) -> dict[str, str]:
    """Return one XML3 (service or supply) row."""
    return {
        "MA_LK": ma_lk, "STT": str(stt),
        "MA_DICH_VU": "" if line.is_supply else line.code, "MA_VAT_TU": line.code if line.is_supply else "",
        "MA_NHOM": line.group_code, "TEN_DICH_VU": line.name, "DON_VI_TINH": line.unit,
        "DON_GIA_BV": str(line.hospital_unit_price), "DON_GIA_BH": str(line.insurance_unit_price),
        "TYLE_TT_DV": str(line.service_rate), "NGAY_KQ": format_datetime(line.result_at),
        "NGUOI_THUC_HIEN": line.performer_code,
        **_money_split(line),
    }


def xml4_values(ma_lk: str, stt: int, line: ClaimResultLine) -> dict[str, str]:
    """Return one XML4 (paraclinical result) row."""
    return {
        "MA_LK": ma_lk, "STT": str(stt), "MA_DICH_VU": line.service_code, "MA_CHI_SO": line.indicator_code,
        "TEN_CHI_SO": line.indicator_name, "GIA_TRI": line.value, "DON_VI_DO": line.unit,
        "KET_LUAN": line.conclusion, "NGAY_KQ": format_datetime(line.result_at),
    }


def inner_xml1(visit: ClaimVisit) -> bytes:
    """Build the XML1 inner file of a visit."""
    root = ET.Element(TABLE_PATHS["XML1"][0])
    _fill(root, XML1_COLUMNS, xml1_values(visit))
    return _serialize(root)


def _inner_table(kind: str, columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> bytes:
    """Build a row-table inner file (XML2/3/4)."""
    root_tag, list_tag, row_tag = TABLE_PATHS[kind]
    root = ET.Element(root_tag)
    listing = ET.SubElement(root, list_tag)
    for values in rows:
        _fill(ET.SubElement(listing, row_tag), columns, values)
    return _serialize(root)


def inner_files(visit: ClaimVisit) -> list[tuple[str, bytes]]:
    """Return the (LOAIHOSO, inner XML bytes) pairs of a visit; empty detail tables are omitted."""
    files = [("XML1", inner_xml1(visit))]
    tables: list[tuple[str, tuple[str, ...], Callable, tuple]] = [
        ("XML2", XML2_COLUMNS, xml2_values, visit.drug_lines),
        ("XML3", XML3_COLUMNS, xml3_values, visit.service_lines),
        ("XML4", XML4_COLUMNS, xml4_values, visit.result_lines),
    ]
    for kind, columns, to_values, lines in tables:
        if lines:
            rows = (to_values(visit.ma_lk, stt, line) for stt, line in enumerate(lines, start=1))
            files.append((kind, _inner_table(kind, columns, rows)))
    return files


def hoso_chunk(visit: ClaimVisit) -> bytes:
    """Build the <HOSO> element of one visit with base64-encoded inner files."""
    return hoso(inner_files(visit))


def iter_giamdinhhs(
    facility_code: str, created_on: date, visit_count: int, visits: Iterable[ClaimVisit]
) -> Iterator[bytes]:
    """Yield the GIAMDINHHS envelope in chunks: header, one chunk per visit, footer."""
    yield envelope_header(facility_code, created_on, visit_count)
    emitted = 0
    for visit in visits:
        emitted += 1
        if emitted > visit_count:
            raise ValueError(f"more visits than the announced SOLUONGHOSO={visit_count}")
        yield hoso_chunk(visit)
    if emitted != visit_count:
        raise ValueError(f"announced SOLUONGHOSO={visit_count} but got {emitted} visits")
    yield ENVELOPE_FOOTER


def _columns(element: ET.Element) -> dict[str, str]:
    """Return {tag: text} of an element's children."""
    return {child.tag: child.text or "" for child in element}


def _decode_inner(kind: str, content: bytes) -> dict[str, str] | list[dict[str, str]]:
    """Decode one inner file: XML1 to a dict, the row tables to a list of dicts."""
    root = ET.fromstring(content)
    root_tag, list_tag, row_tag = TABLE_PATHS[kind]
    if root.tag != root_tag:
        raise ValueError(f"{kind}: expected root <{root_tag}>, got <{root.tag}>")
    if list_tag is None:
        return _columns(root)
    return [_columns(row) for row in root.iterfind(f"{list_tag}/{row_tag}")]


def parse_giamdinhhs(xml_bytes: bytes) -> list[dict]:
    """Decode an envelope into [{ma_lk, xml1, xml2, xml3, xml4}], one dict per HOSO."""
    envelope = ET.fromstring(xml_bytes)
    if envelope.tag != "GIAMDINHHS":
        raise ValueError(f"expected <GIAMDINHHS>, got <{envelope.tag}>")
    records = []
    for element in envelope.iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO"):
        record: dict = {"ma_lk": "", "xml1": {}, "xml2": [], "xml3": [], "xml4": []}
        for file_el in element.iterfind("FILEHOSO"):
            kind = (file_el.findtext("LOAIHOSO") or "").strip()
            if kind not in TABLE_PATHS:
                continue  # tables we do not export (XML5+) are ignored, not rejected
            content = base64.b64decode(file_el.findtext("NOIDUNGFILE") or "", validate=True)
            record[kind.lower()] = _decode_inner(kind, content)
        record["ma_lk"] = record["xml1"].get("MA_LK", "")
        records.append(record)
    return records
