"""Tests for the streaming GIAMDINHHS (QĐ 130/4750) exporter and the claim records."""

from __future__ import annotations

import base64
import tracemalloc
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing_service.claims.bhyt_xml import (
    XML1_COLUMNS,
    XML2_COLUMNS,
    XML3_COLUMNS,
    XML4_COLUMNS,
    iter_giamdinhhs,
    parse_giamdinhhs,
)
from billing_service.claims.records import (
    ClaimCoverage,
    ClaimDrugLine,
    ClaimPatient,
    ClaimResultLine,
    ClaimServiceLine,
    ClaimVisit,
)

FACILITY = "01001"


def utc(*parts: int) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(*parts, tzinfo=UTC)


def split(quantity: int, price_bv: int, price_bh: int, muc_huong: int, rate: int = 100, funding: int = 0) -> dict:
    """Split a line's money per QĐ 130 (patient-specific funding taken from T_BNTT, then T_BNCCT, then T_BHTT)."""
    bv = quantity * price_bv
    bh = quantity * price_bh * rate // 100
    parts = {"patient_outside_amount": bv - bh, "insurer_amount": bh * muc_huong // 100}
    parts["copay_amount"] = bh - parts["insurer_amount"]
    remaining = funding
    for key in ("patient_outside_amount", "copay_amount", "insurer_amount"):
        taken = min(remaining, parts[key])
        parts[key] -= taken
        remaining -= taken
    return {
        "quantity": quantity, "hospital_unit_price": price_bv, "insurance_unit_price": price_bh,
        "hospital_amount": bv, "insured_amount": bh, "benefit_level": muc_huong, "insurance_rate": rate,
        "other_funding_amount": funding, "state_budget_funding_amount": funding, **parts,
    }


def drug(code: str, name: str, ordered_at: datetime, **money: int) -> ClaimDrugLine:
    """Build a drug line."""
    return ClaimDrugLine(
        code=code, name=name, unit="Viên", strength="500mg", route="1.01", registration_number="VD-12345-10",
        department_code="K01", doctor_code="001234/HNO-CCHN", ordered_at=ordered_at, **split(**money),
    )


def service(code: str, name: str, ordered_at: datetime, group: str = "1", supply: bool = False, **money: int):
    """Build a service (or supply) line."""
    return ClaimServiceLine(
        code=code, name=name, unit="Lần", group_code=group, is_supply=supply, department_code="K01",
        doctor_code="001234/HNO-CCHN", ordered_at=ordered_at,
        result_at=None if supply else ordered_at.replace(hour=(ordered_at.hour + 1) % 24), **split(**money),
    )


def make_visit(n: int = 1, ma_lk: str | None = None) -> ClaimVisit:
    """Build one of three realistic visits (n = 1, 2, 3); codes are illustrative BHYT list codes."""
    if n == 1:  # outpatient diabetes check-up with a glucose test
        admitted = utc(2026, 11, 20, 18, 30)
        return ClaimVisit(
            ma_lk=ma_lk or "LK2026112000001", stt=1, visit_kind="outpatient",
            patient=ClaimPatient(patient_id="BN000123", full_name="Nguyễn Thị Lan", birth_date=date(1990, 5, 17),
                                 sex="female", cccd="001190012345", address="Số 5 phố Huế, Hai Bà Trưng, Hà Nội"),
            coverage=ClaimCoverage(card_number="DN4010123456789", registered_facility="01001",
                                   valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), benefit_level=80),
            diagnosis_main="E11.9", admitted_at=admitted, discharged_at=utc(2026, 11, 21, 3, 0),
            settlement_year=2026, settlement_month=11, facility_code=FACILITY,
            drug_lines=[drug("40.17", "Amoxicilin", admitted, quantity=20, price_bv=1_500, price_bh=1_500,
                             muc_huong=80)],
            service_lines=[service("23.0075.1494", "Định lượng Glucose [Máu]", admitted, quantity=1,
                                   price_bv=21_500, price_bh=21_500, muc_huong=80)],
            result_lines=[ClaimResultLine(service_code="23.0075.1494", indicator_code="2345-7",
                                          indicator_name="Glucose máu", value="7.8", unit="mmol/L",
                                          conclusion="Tăng đường huyết", result_at=utc(2026, 11, 20, 19, 45))],
        )
    if n == 2:  # inpatient pneumonia, with a supply (worked example: BV 120 000, BH 100 000, 80 %)
        admitted = utc(2026, 11, 3, 1, 0)
        return ClaimVisit(
            ma_lk=ma_lk or "LK2026110300042", stt=2, visit_kind="inpatient",
            patient=ClaimPatient(patient_id="BN000456", full_name="Trần Văn Hùng", birth_date=date(1958, 2, 1),
                                 sex="male", cccd="079058001122", address="Quận 1, TP. Hồ Chí Minh"),
            coverage=ClaimCoverage(card_number="HT2797912345678", registered_facility="79024",
                                   valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), benefit_level=95),
            diagnosis_main="J18.9", diagnosis_other=("E11.9", "I10"), admitted_at=admitted,
            discharged_at=utc(2026, 11, 9, 2, 0), settlement_year=2026, settlement_month=11, facility_code=FACILITY,
            drug_lines=[drug("40.17", "Amoxicilin", admitted, quantity=2, price_bv=150_000, price_bh=150_000,
                             muc_huong=95)],
            service_lines=[
                service("22.0120.1370", "Tổng phân tích tế bào máu ngoại vi", admitted, quantity=1,
                        price_bv=46_200, price_bh=46_200, muc_huong=95),
                service("N03.05.010", "Bơm tiêm nhựa 5ml", admitted, group="10", supply=True, quantity=1,
                        price_bv=120_000, price_bh=100_000, muc_huong=80),
            ],
            result_lines=[ClaimResultLine(service_code="22.0120.1370", indicator_code="6690-2",
                                          indicator_name="Số lượng bạch cầu (WBC)", value="14.2", unit="G/L",
                                          result_at=utc(2026, 11, 3, 3, 0))],
        )
    admitted = utc(2026, 11, 12, 2, 0)  # no paraclinical results → no XML4; worked example with funding
    return ClaimVisit(
        ma_lk=ma_lk or "LK2026111200007", stt=3, visit_kind="outpatient",
        patient=ClaimPatient(patient_id="BN000789", full_name="Lê Thị Thu Hà", birth_date=date(2019, 7, 30),
                             sex="unknown", cccd="048319000321"),
        coverage=ClaimCoverage(card_number="TE1484820000123", registered_facility="48001",
                               valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), benefit_level=100),
        diagnosis_main="C91.0", admitted_at=admitted, discharged_at=admitted, settlement_year=2026,
        settlement_month=11, facility_code=FACILITY,
        drug_lines=[drug("40.999", "Thuốc đặc trị", admitted, quantity=1, price_bv=10_000_000,
                         price_bh=10_000_000, muc_huong=80, rate=50, funding=3_000_000)],
    )


def export(visits: list[ClaimVisit]) -> bytes:
    """Export visits to one envelope."""
    return b"".join(iter_giamdinhhs(FACILITY, date(2026, 12, 1), len(visits), visits))


@pytest.fixture(scope="module")
def parsed() -> list[dict]:
    """Round-trip the three sample visits."""
    return parse_giamdinhhs(export([make_visit(1), make_visit(2), make_visit(3)]))


def test_envelope_header_and_structure():
    root = ET.fromstring(export([make_visit(1), make_visit(2)]))
    assert root.tag == "GIAMDINHHS"
    assert root.findtext("THONGTINDONVI/MACSKCB") == FACILITY
    assert root.findtext("THONGTINHOSO/NGAYLAP") == "20261201"
    assert root.findtext("THONGTINHOSO/SOLUONGHOSO") == "2"
    assert len(root.findall("THONGTINHOSO/DANHSACHHOSO/HOSO")) == 2
    assert root.find("CHUKYDONVI") is not None
    kinds = [el.text for el in root.iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO[1]/FILEHOSO/LOAIHOSO")]
    assert kinds == ["XML1", "XML2", "XML3", "XML4"]


def test_xml4_only_when_results(parsed):
    root = ET.fromstring(export([make_visit(3)]))
    kinds = [el.text for el in root.iter("LOAIHOSO")]
    assert kinds == ["XML1", "XML2"]
    assert parsed[2]["xml4"] == [] and parsed[2]["xml3"] == []


def test_inner_files_are_base64_utf8_with_diacritics():
    root = ET.fromstring(export([make_visit(1)]))
    contents = {f.findtext("LOAIHOSO"): base64.b64decode(f.findtext("NOIDUNGFILE"), validate=True)
                for f in root.iter("FILEHOSO")}
    assert contents["XML1"].startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    xml1 = contents["XML1"].decode("utf-8")
    assert "<HO_TEN>Nguyễn Thị Lan</HO_TEN>" in xml1
    assert "Định lượng Glucose [Máu]" in contents["XML3"].decode("utf-8")
    assert ET.fromstring(contents["XML2"]).tag == "CHITIEU_CHITIET_THUOC"
    assert ET.fromstring(contents["XML4"]).find("DSACH_CHI_TIET_CLS/CHI_TIET_CLS/KET_LUAN").text == "Tăng đường huyết"


def test_xml1_patient_and_local_times(parsed):
    xml1 = parsed[0]["xml1"]
    assert xml1["NGAY_VAO"] == "202611210130"  # 2026-11-20T18:30Z is 01:30 next day in Vietnam
    assert xml1["NGAY_RA"] == "202611211000"
    assert (xml1["SO_CCCD"], xml1["MA_THE_BHYT"], xml1["MA_DKBD"]) == ("001190012345", "DN4010123456789", "01001")
    assert (xml1["NGAY_SINH"], xml1["GT_THE_TU"], xml1["GT_THE_DEN"]) == ("19900517", "20260101", "20261231")
    assert (xml1["MA_BENH_CHINH"], xml1["MA_LOAI_KCB"], xml1["MA_CSKCB"]) == ("E11.9", "01", FACILITY)
    assert (xml1["NAM_QT"], xml1["THANG_QT"]) == ("2026", "11")
    assert [p["xml1"]["GIOI_TINH"] for p in parsed] == ["2", "1", "3"]
    assert parsed[1]["xml1"]["MA_LOAI_KCB"] == "03"
    assert parsed[1]["xml1"]["MA_BENH_KT"] == "E11.9;I10"
    assert parsed[0]["xml4"][0]["NGAY_KQ"] == "202611210245"


@pytest.mark.parametrize("index", [0, 1, 2])
def test_xml1_totals_are_sums_of_lines(parsed, index):
    record = parsed[index]
    lines = record["xml2"] + record["xml3"]

    def total(column: str, rows=lines) -> int:
        return sum(int(row[column]) for row in rows)

    xml1 = record["xml1"]
    assert int(xml1["T_TONGCHI_BV"]) == total("THANH_TIEN_BV")
    assert int(xml1["T_TONGCHI_BH"]) == total("THANH_TIEN_BH")
    for column in ("T_BNTT", "T_BNCCT", "T_BHTT", "T_NGUONKHAC"):
        assert int(xml1[column]) == total(column)
    assert int(xml1["T_THUOC"]) == total("THANH_TIEN_BV", record["xml2"])
    supplies = [row for row in record["xml3"] if row["MA_VAT_TU"]]
    assert int(xml1["T_VTYT"]) == total("THANH_TIEN_BV", supplies)
    assert int(xml1["T_TONGCHI_BV"]) == sum(int(xml1[c]) for c in ("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC"))


def test_known_totals(parsed):
    # Visit 1: 20 × 1 500 + 21 500 at 80 %.
    assert {k: parsed[0]["xml1"][k] for k in ("T_TONGCHI_BV", "T_BHTT", "T_BNCCT", "T_THUOC", "T_VTYT")} == {
        "T_TONGCHI_BV": "51500", "T_BHTT": "41200", "T_BNCCT": "10300", "T_THUOC": "30000", "T_VTYT": "0",
    }
    assert parsed[1]["xml1"]["T_VTYT"] == "120000"


def test_worked_examples_in_rows(parsed):
    supply = parsed[1]["xml3"][1]
    assert (supply["MA_VAT_TU"], supply["MA_DICH_VU"], supply["MA_NHOM"]) == ("N03.05.010", "", "10")
    assert [supply[c] for c in ("THANH_TIEN_BV", "THANH_TIEN_BH", "T_BHTT", "T_BNCCT", "T_BNTT")] == [
        "120000", "100000", "80000", "20000", "20000"]
    funded = parsed[2]["xml2"][0]
    assert [funded[c] for c in ("THANH_TIEN_BV", "THANH_TIEN_BH", "T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC")] == [
        "10000000", "5000000", "4000000", "1000000", "2000000", "3000000"]
    assert [funded[c] for c in ("T_NGUONKHAC_NSNN", "T_NGUONKHAC_VTNN", "T_NGUONKHAC_VTTN", "T_NGUONKHAC_CL")] == [
        "3000000", "0", "0", "0"]
    assert funded["TYLE_TT_BH"] == "50"


def test_column_order_and_round_trip(parsed):
    assert [p["ma_lk"] for p in parsed] == ["LK2026112000001", "LK2026110300042", "LK2026111200007"]
    assert tuple(parsed[0]["xml1"]) == XML1_COLUMNS
    assert tuple(parsed[1]["xml2"][0]) == XML2_COLUMNS
    assert tuple(parsed[1]["xml3"][0]) == XML3_COLUMNS
    assert tuple(parsed[1]["xml4"][0]) == XML4_COLUMNS
    row = parsed[0]["xml2"][0]
    assert (row["MA_THUOC"], row["TEN_THUOC"], row["HAM_LUONG"], row["SO_LUONG"], row["DON_GIA"]) == (
        "40.17", "Amoxicilin", "500mg", "20", "1500")
    assert row["NGAY_YL"] == "202611210130" and row["MA_LK"] == "LK2026112000001" and row["STT"] == "1"
    assert [r["STT"] for r in parsed[1]["xml3"]] == ["1", "2"]
    assert parsed[0]["xml3"][0]["NGAY_KQ"] == "202611210230"
    assert parsed[0]["xml4"][0]["MA_CHI_SO"] == "2345-7"


def test_special_characters_are_escaped():
    visit = make_visit(1)
    odd = replace(visit.patient, full_name="Phạm <Văn> & \"Tú\"", address="Ngõ 3 & 5")
    record = parse_giamdinhhs(export([replace(visit, patient=odd)]))[0]
    assert record["xml1"]["HO_TEN"] == "Phạm <Văn> & \"Tú\""
    assert record["xml1"]["DIA_CHI"] == "Ngõ 3 & 5"


def _counting_visits(total: int, consumed: list[int]):
    """Yield distinct visits lazily, recording how many were pulled."""
    template = make_visit(2)
    for i in range(total):
        consumed[0] += 1
        yield replace(template, ma_lk=f"LK{i:08d}", stt=i + 1)


def test_streams_lazily_one_chunk_per_visit():
    consumed = [0]
    chunks = iter_giamdinhhs(FACILITY, date(2026, 12, 1), 2000, _counting_visits(2000, consumed))
    header = next(chunks)
    assert b"<SOLUONGHOSO>2000</SOLUONGHOSO>" in header and consumed[0] == 0
    first = next(chunks)
    assert first.startswith(b"<HOSO>") and consumed[0] == 1
    next(chunks)
    assert consumed[0] == 2
    rest = list(chunks)
    assert consumed[0] == 2000 and len(rest) == 1999  # 1998 HOSO + footer
    assert rest[-1].rstrip().endswith(b"</GIAMDINHHS>")


def test_memory_stays_flat():
    # 300 visits keep tracemalloc fast; the peak is about one HOSO (~70 kB) whatever the count.
    written = 0
    tracemalloc.start()
    try:
        for chunk in iter_giamdinhhs(FACILITY, date(2026, 12, 1), 300, _counting_visits(300, [0])):
            written += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written > 1_500_000
    assert peak < 400_000, f"peak {peak} bytes for {written} bytes written"


def test_visit_count_mismatch_raises():
    with pytest.raises(ValueError, match="got 1 visits"):
        list(iter_giamdinhhs(FACILITY, date(2026, 12, 1), 2, [make_visit(1)]))
    with pytest.raises(ValueError, match="more visits"):
        list(iter_giamdinhhs(FACILITY, date(2026, 12, 1), 1, [make_visit(1), make_visit(2)]))


def test_parse_rejects_other_documents():
    with pytest.raises(ValueError):
        parse_giamdinhhs(b"<OTHER/>")


def test_records_reject_broken_money_and_times():
    line = make_visit(1).drug_lines[0]
    with pytest.raises(ValueError, match="T_BHTT"):
        replace(line, insurer_amount=line.insurer_amount + 1)
    with pytest.raises(TypeError, match="must be int"):
        replace(line, hospital_unit_price=1500.0, hospital_amount=30000)
    with pytest.raises(ValueError, match="quantity"):
        replace(line, quantity=21)
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(line, ordered_at=datetime(2026, 11, 20, 8, 0))
    with pytest.raises(ValueError, match="cccd"):
        replace(make_visit(1).patient, cccd="12345")
    with pytest.raises(ValueError, match="card_number"):
        replace(make_visit(1).coverage, card_number="DN401")
    with pytest.raises(ValueError, match="visit_kind"):
        replace(make_visit(1), visit_kind="emergency")
    with pytest.raises(ValueError, match="ma_lk"):
        replace(make_visit(1), ma_lk="x" * 101)


def out_of_network_visit() -> ClaimVisit:
    """Return visit 2 with its drug at a fractional MUC_HUONG (95 % card × 50 % out-of-network rate)."""
    visit = make_visit(2)
    line = replace(visit.drug_lines[0], benefit_level=Decimal("47.5"), insurer_amount=142_500, copay_amount=157_500)
    return replace(visit, drug_lines=[line])


def test_fractional_benefit_level():
    row = parse_giamdinhhs(export([out_of_network_visit()]))[0]["xml2"][0]
    assert (row["MUC_HUONG"], row["T_BHTT"], row["T_BNCCT"]) == ("47.5", "142500", "157500")
    line = out_of_network_visit().drug_lines[0]
    with pytest.raises(TypeError, match="int or Decimal"):
        replace(line, benefit_level=47.5)
    with pytest.raises(ValueError, match="0..100"):
        replace(line, benefit_level=Decimal("100.5"))


def test_visit_lines_are_frozen_tuples():
    visit = make_visit(2)
    assert isinstance(visit.service_lines, tuple) and isinstance(visit.diagnosis_other, tuple)
    assert hash(visit) == hash(make_visit(2))
