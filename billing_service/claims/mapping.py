"""Stored claims → ClaimVisit records for the exporters, read page by page so memory stays flat.

A claim line carries the money it was claimed with; the item's name, unit, time and source details (strength,
route, registration number, lab results) come from its invoice line, which never changes them.
"""

import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from billing_service.claims.models import Claim, ClaimBatch, ClaimLine
from billing_service.claims.records import (
    ClaimCoverage,
    ClaimDrugLine,
    ClaimPatient,
    ClaimResultLine,
    ClaimServiceLine,
    ClaimVisit,
)
from billing_service.models import EncounterSnapshot, InvoiceLine

PAGE_SIZE = 500  # visits read per round trip
LAB_GROUP = "1"  # MA_NHOM 1: xét nghiệm
SUPPLY_GROUP = "10"  # MA_NHOM 10: vật tư y tế
OTHER_SERVICE_GROUP = "18"  # MA_NHOM 18: dịch vụ kỹ thuật khác (thủ thuật)
RESULT_CONCLUSIONS = {"N": "Bình thường", "L": "Thấp", "H": "Cao", "LL": "Thấp nguy hiểm", "HH": "Cao nguy hiểm",
                      "A": "Bất thường"}
DEPARTMENT_CODE = re.compile(r"^K\d{2,3}\b")
LINE_COLUMNS = (ClaimLine.claim, ClaimLine.xml_table, ClaimLine.line_no, ClaimLine.code, ClaimLine.quantity,
                ClaimLine.unit_price_amount, ClaimLine.insurance_unit_price_amount, ClaimLine.insurance_scope,
                ClaimLine.insurance_rate, ClaimLine.benefit_level, ClaimLine.hospital_amount,
                ClaimLine.insured_amount, ClaimLine.insurer_amount, ClaimLine.copay_amount,
                ClaimLine.patient_outside_amount, ClaimLine.other_funding_amount, ClaimLine.state_budget_funding_amount,
                ClaimLine.foreign_aid_funding_amount, ClaimLine.domestic_aid_funding_amount,
                ClaimLine.other_source_funding_amount, InvoiceLine.name, InvoiceLine.unit, InvoiceLine.item_kind,
                InvoiceLine.source, InvoiceLine.occurred_at, InvoiceLine.details_json, InvoiceLine.ordered_by_code,
                InvoiceLine.performed_by_code)


def department_code(department: str | None) -> str:
    """Return MA_KHOA from a visit's department ("K01 Khoa Khám bệnh" → "K01"), "" when it has none."""
    match = DEPARTMENT_CODE.match(department or "")
    return match.group(0) if match else ""


def visit_doctor_code(snapshot: EncounterSnapshot) -> str:
    """Return the visit's doctor's practising-certificate number: MA_BAC_SI of lines that name no orderer."""
    practitioner = snapshot.practitioner
    return practitioner["licence_number"] if practitioner else ""


def _percent(value: Decimal) -> int | Decimal:
    """Return a stored percentage as an int when whole (80), else the exact Decimal (47.5)."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else value.normalize()


def _patient(snapshot: EncounterSnapshot) -> ClaimPatient:
    patient = snapshot.patient
    return ClaimPatient(patient_id=str(patient["id"]), full_name=patient["full_name"],
                        birth_date=date.fromisoformat(str(patient["birth_date"])), sex=patient["sex"],
                        cccd=patient["cccd"], address=patient.get("address") or "")


def _coverage(snapshot: EncounterSnapshot) -> ClaimCoverage:
    card = snapshot.coverage
    return ClaimCoverage(card_number=card["card_number"], registered_facility=card["registered_facility"],
                         valid_from=date.fromisoformat(str(card["valid_from"])),
                         valid_to=date.fromisoformat(str(card["valid_to"])), benefit_level=int(card["benefit_level"]))


def _money(row: dict, department: str, doctor_code: str) -> dict:
    """Return the keyword arguments shared by drug and service lines."""
    return {
        "code": row["code"], "name": row["name"], "unit": row["unit"], "insurance_scope": row["insurance_scope"],
        "insurance_rate": row["insurance_rate"], "quantity": row["quantity"],
        "hospital_unit_price": row["unit_price_amount"], "insurance_unit_price": row["insurance_unit_price_amount"],
        "hospital_amount": row["hospital_amount"], "insured_amount": row["insured_amount"],
        "benefit_level": _percent(row["benefit_level"]), "other_funding_amount": row["other_funding_amount"],
        "patient_outside_amount": row["patient_outside_amount"], "copay_amount": row["copay_amount"],
        "insurer_amount": row["insurer_amount"], "department_code": department, "ordered_at": row["occurred_at"],
        "state_budget_funding_amount": row["state_budget_funding_amount"],
        "foreign_aid_funding_amount": row["foreign_aid_funding_amount"],
        "domestic_aid_funding_amount": row["domestic_aid_funding_amount"],
        "other_source_funding_amount": row["other_source_funding_amount"],
        "doctor_code": row["ordered_by_code"] or doctor_code, "performer_code": row["performed_by_code"] or "",
    }


def _drug_line(row: dict, details: dict, department: str, doctor_code: str) -> ClaimDrugLine:
    return ClaimDrugLine(**_money(row, department, doctor_code), strength=details.get("strength") or "",
                         route=details.get("route") or "", registration_number=details.get("registration_number") or "")


def _service_line(row: dict, details: dict, department: str, doctor_code: str) -> ClaimServiceLine:
    supply = row["item_kind"] == "supply"
    group = SUPPLY_GROUP if supply else LAB_GROUP if row["source"] == "lab" else OTHER_SERVICE_GROUP
    result_at = row["occurred_at"] if details.get("results") else None
    return ClaimServiceLine(**_money(row, department, doctor_code), group_code=group, is_supply=supply,
                            result_at=result_at)


def _result_lines(row: dict, details: dict) -> list[ClaimResultLine]:
    """Return the XML4 rows of a lab line: one per recorded result value."""
    return [ClaimResultLine(service_code=row["code"], indicator_code=result.get("loinc") or details.get("loinc") or "",
                            indicator_name=result.get("name") or row["name"], value=str(result["value"]),
                            unit=result.get("unit") or "", conclusion=RESULT_CONCLUSIONS.get(result.get("flag"), ""),
                            result_at=row["occurred_at"])
            for result in details.get("results") or [] if result.get("value") not in (None, "")]


def to_claim_visit(claim: Claim, snapshot: EncounterSnapshot, batch: ClaimBatch, rows: list[dict]) -> ClaimVisit:
    """Build the ClaimVisit of one stored claim from its visit snapshot and its line rows (in STT order)."""
    department = department_code(snapshot.department)
    doctor_code = visit_doctor_code(snapshot)
    drugs, services, results = [], [], []
    for row in rows:
        details = json.loads(row["details_json"] or "{}")
        if row["xml_table"] == "XML2":
            drugs.append(_drug_line(row, details, department, doctor_code))
        else:
            services.append(_service_line(row, details, department, doctor_code))
            results.extend(_result_lines(row, details))
    year, month = (int(part) for part in batch.period.split("-"))
    return ClaimVisit(
        ma_lk=claim.encounter_id, stt=claim.stt, patient=_patient(snapshot), coverage=_coverage(snapshot),
        visit_kind=snapshot.kind, diagnosis_main=snapshot.diagnosis_main or "",
        diagnosis_other=tuple(code.strip() for code in (snapshot.diagnosis_other or "").split(";") if code.strip()),
        admitted_at=snapshot.opened_at, discharged_at=snapshot.discharged_at, settlement_year=year,
        settlement_month=month, facility_code=batch.facility_code, drug_lines=drugs, service_lines=services,
        result_lines=results)


def _lines_by_claim(claim_ids: list[int]) -> dict[int, list[dict]]:
    rows = (ClaimLine.select(*LINE_COLUMNS).join(InvoiceLine)
            .where(ClaimLine.claim.in_(claim_ids) & ClaimLine.withdrawn_at.is_null())
            .order_by(ClaimLine.claim, ClaimLine.xml_table, ClaimLine.line_no).dicts())
    grouped: dict[int, list[dict]] = {claim_id: [] for claim_id in claim_ids}
    for row in rows:
        grouped[row["claim"]].append(row)
    return grouped


def iter_claim_visits(batch: ClaimBatch, page_size: int = PAGE_SIZE) -> Iterator[ClaimVisit]:
    """Yield the batch's visits in STT order, reading one page of visits and their lines at a time."""
    last_stt = 0
    while True:
        page = list(Claim.select(Claim, EncounterSnapshot)
                    .join(EncounterSnapshot, on=(EncounterSnapshot.encounter_id == Claim.encounter_id), attr="snapshot")
                    .where((Claim.batch == batch.id) & (Claim.stt > last_stt))
                    .order_by(Claim.stt).limit(page_size))
        if not page:
            return
        lines = _lines_by_claim([claim.id for claim in page])
        for claim in page:
            yield to_claim_visit(claim, claim.snapshot, batch, lines[claim.id])
        last_stt = page[-1].stt
