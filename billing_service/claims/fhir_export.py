"""FHIR R5 export of BHYT claims as plain dicts (validated by the tests with ``fhir.resources`` 8.x).

Per visit: Patient, Coverage (the BHYT card), one ChargeItem per drug/service line, the hospital's Invoice (its
lineItems point at the ChargeItems; other funding, T_NGUONKHAC, is a deduction, so totalNet is what BHYT and the
patient pay), one Claim (its supportingInfo points at the Invoice), and one ClaimResponse.
R5 ``Claim.item`` has no ``adjudication`` element, so the facility-computed split (T_BHTT → ``benefit``,
T_BNCCT → ``copay``, MUC_HUONG → ``eligpercent``) is carried by a ClaimResponse with ``outcome: "queued"`` and a
disposition saying it is the facility's computation awaiting BHXH assessment; the insurer's real answer arrives later
as its own ClaimResponse. R5 also replaced adjudication ``value`` by ``quantity``, so ``eligpercent`` is a Quantity.

fullUrls are ``urn:uuid:`` uuid5 values derived from MA_LK and the line, so re-exporting a visit gives the same ids.
Every visit carries its own Patient/Coverage snapshot (keyed by MA_LK) so each visit's entries are self-contained.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from billing_service.claims.records import ClaimDrugLine, ClaimServiceLine, ClaimVisit
from common import clock

ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:vn:hospital-inventory-billing:bhyt-claims")
CURRENCY = "VND"
DEFAULT_INSURER = "Bảo hiểm xã hội Việt Nam"

CLAIM_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claim-type"
CLAIM_TYPE_BY_VISIT_KIND = {"inpatient": "institutional", "outpatient": "professional"}
ADJUDICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/adjudication"
DIAGNOSIS_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
UCUM_SYSTEM = "http://unitsofmeasure.org"
CCCD_SYSTEM = "urn:vn:cccd"
CARD_SYSTEM = "urn:vn:bhyt:ma-the"  # MA_THE_BHYT
FACILITY_SYSTEM = "urn:vn:bhyt:ma-cskcb"  # MA_CSKCB / MA_DKBD
DRUG_SYSTEM = "urn:vn:bhyt:ma-thuoc"
SERVICE_SYSTEM = "urn:vn:bhyt:ma-dich-vu"
SUPPLY_SYSTEM = "urn:vn:bhyt:ma-vat-tu"  # supplies are a separate BHYT code list (MA_VAT_TU)
LICENCE_SYSTEM = "urn:vn:moh:cchn"  # practising-certificate numbers (MA_BAC_SI, NGUOI_THUC_HIEN)
CLAIM_INFO_SYSTEM = "http://terminology.hl7.org/CodeSystem/claiminformationcategory"
OTHER_FUNDING_CODE = {"coding": [{"system": "urn:vn:bhyt:cot", "code": "T_NGUONKHAC"}],
                      "text": "Nguồn khác (NSNN, viện trợ, bệnh viện)"}
PENDING_DISPOSITION = "Facility-computed split per QĐ 130/QĐ-BYT (amended by QĐ 4750/QĐ-BYT), pending BHXH assessment"

ChargeLine = ClaimDrugLine | ClaimServiceLine


def entry_uuid(ma_lk: str, part: str) -> str:
    """Return the deterministic urn:uuid of one part of a visit."""
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'{ma_lk}|{part}')}"


def money(amount: int) -> dict:
    """Return a FHIR Money in VND."""
    if type(amount) is not int:
        raise TypeError(f"money must be int đồng, got {type(amount).__name__}")
    return {"value": amount, "currency": CURRENCY}


def fhir_datetime(value: datetime) -> str:
    """Format an aware datetime as a FHIR dateTime in Vietnam local time."""
    return clock.local_time(value).isoformat(timespec="seconds")


def _entry(full_url: str, resource: dict) -> dict:
    """Wrap a resource in a Bundle entry; the resource id is the uuid part of the fullUrl."""
    resource = {"resourceType": resource["resourceType"], "id": full_url.removeprefix("urn:uuid:"), **resource}
    return {"fullUrl": full_url, "resource": resource}


def _charge_lines(visit: ClaimVisit) -> list[tuple[str, ChargeLine]]:
    """Return (part key, line) for every billable line of a visit, drugs first as in XML2 then XML3."""
    drugs = [(f"drug|{stt}", line) for stt, line in enumerate(visit.drug_lines, start=1)]
    services = [(f"service|{stt}", line) for stt, line in enumerate(visit.service_lines, start=1)]
    return drugs + services


def product_code(line: ChargeLine) -> dict:
    """Return the CodeableConcept of a line's BHYT code."""
    if isinstance(line, ClaimDrugLine):
        system = DRUG_SYSTEM
    else:
        system = SUPPLY_SYSTEM if line.is_supply else SERVICE_SYSTEM
    return {"coding": [{"system": system, "code": line.code, "display": line.name}], "text": line.name}


def patient_resource(visit: ClaimVisit) -> dict:
    """Build the Patient resource."""
    patient = visit.patient
    family, _, given = patient.full_name.partition(" ")  # Vietnamese order: family name first
    name: dict = {"text": patient.full_name, "family": family}
    if given:
        name["given"] = given.split()
    resource = {
        "resourceType": "Patient",
        "identifier": [{"system": CCCD_SYSTEM, "value": patient.cccd}],
        "name": [name],
        "gender": patient.sex,
        "birthDate": patient.birth_date.isoformat(),
    }
    if patient.address:
        resource["address"] = [{"text": patient.address, "country": "VN"}]
    return resource


def coverage_resource(visit: ClaimVisit, patient_url: str, insurer_name: str) -> dict:
    """Build the Coverage resource of the BHYT card."""
    card = visit.coverage
    return {
        "resourceType": "Coverage",
        "status": "active",
        "kind": "insurance",
        "subscriberId": [{"system": CARD_SYSTEM, "value": card.card_number}],  # R5: a list of Identifier
        "beneficiary": {"reference": patient_url},
        "period": {"start": card.valid_from.isoformat(), "end": card.valid_to.isoformat()},
        "insurer": {"display": insurer_name},
        "network": card.registered_facility,  # MA_DKBD: the facility the card is registered at
    }


def _practitioner(code: str) -> dict:
    """Return a logical reference to a practitioner by practising-certificate number."""
    return {"identifier": {"system": LICENCE_SYSTEM, "value": code}}


def charge_item_resource(line: ChargeLine, patient_url: str) -> dict:
    """Build the ChargeItem of one line: quantity in its DON_VI_TINH, who ordered and performed it."""
    resource = {
        "resourceType": "ChargeItem",
        "status": "billable",
        "code": product_code(line),
        "subject": {"reference": patient_url},
        "occurrenceDateTime": fhir_datetime(line.ordered_at),
        "quantity": {"value": line.quantity, "unit": line.unit},
        "unitPriceComponent": {"type": "base", "amount": money(line.hospital_unit_price)},
        "totalPriceComponent": {"type": "base", "amount": money(line.hospital_amount)},
    }
    if line.doctor_code:
        resource["enterer"] = _practitioner(line.doctor_code)
    if line.performer_code:
        resource["performer"] = [{"actor": _practitioner(line.performer_code)}]
    return resource


def _price_components(amount: int, other_funding: int) -> list[dict]:
    """Return the base price and, when other funding pays part of it, that part as a deduction."""
    components = [{"type": "base", "amount": money(amount)}]
    if other_funding:
        components.append({"type": "deduction", "code": OTHER_FUNDING_CODE, "amount": money(other_funding)})
    return components


def invoice_resource(visit: ClaimVisit, urls: dict[str, str], provider_name: str) -> dict:
    """Build the visit's Invoice: one lineItem per ChargeItem, gross = Σ THANH_TIEN_BV, net = gross - T_NGUONKHAC."""
    lines = _charge_lines(visit)
    items = [{"sequence": sequence, "chargeItemReference": {"reference": urls[part]},
              "servicedDate": clock.local_day(line.ordered_at).isoformat(),
              "priceComponent": _price_components(line.hospital_amount, line.other_funding_amount)}
             for sequence, (part, line) in enumerate(lines, start=1)]
    gross = sum(line.hospital_amount for _, line in lines)
    funded = sum(line.other_funding_amount for _, line in lines)
    resource = {
        "resourceType": "Invoice",
        "identifier": [{"system": f"urn:vn:bhyt:{visit.facility_code}:ma-lk", "value": visit.ma_lk}],
        "status": "issued",
        "subject": {"reference": urls["patient"]},
        "recipient": {"reference": urls["patient"]},
        "creation": fhir_datetime(visit.discharged_at),
        "periodPeriod": {"start": fhir_datetime(visit.admitted_at), "end": fhir_datetime(visit.discharged_at)},
        "issuer": _provider(visit, provider_name),
        "totalPriceComponent": _price_components(gross, funded),
        "totalGross": money(gross),
        "totalNet": money(gross - funded),
    }
    if items:  # FHIR JSON forbids empty arrays
        resource["lineItem"] = items
    return resource


def _provider(visit: ClaimVisit, provider_name: str) -> dict:
    """Return the facility as a logical reference."""
    provider: dict = {"identifier": {"system": FACILITY_SYSTEM, "value": visit.facility_code}}
    if provider_name:
        provider["display"] = provider_name
    return provider


def _diagnoses(visit: ClaimVisit) -> list[dict]:
    """Return Claim.diagnosis: the main ICD-10 code as principal, then the others."""
    codes = (visit.diagnosis_main, *visit.diagnosis_other)
    diagnoses = []
    for sequence, code in enumerate(codes, start=1):
        diagnosis: dict = {
            "sequence": sequence,
            "diagnosisCodeableConcept": {"coding": [{"system": ICD10_SYSTEM, "code": code}]},
        }
        if sequence == 1:
            diagnosis["type"] = [{"coding": [{"system": DIAGNOSIS_TYPE_SYSTEM, "code": "principal"}]}]
        diagnoses.append(diagnosis)
    return diagnoses


def _claim_type(visit: ClaimVisit) -> dict:
    """Return Claim.type for the visit kind."""
    return {"coding": [{"system": CLAIM_TYPE_SYSTEM, "code": CLAIM_TYPE_BY_VISIT_KIND[visit.visit_kind]}]}


def claim_resource(visit: ClaimVisit, urls: dict[str, str], insurer_name: str, provider_name: str) -> dict:
    """Build the Claim resource; ``urls`` maps part keys (patient, coverage, drug|1, ...) to fullUrls."""
    items = []
    for sequence, (_, line) in enumerate(_charge_lines(visit), start=1):
        items.append({
            "sequence": sequence,
            "productOrService": product_code(line),
            "servicedDate": clock.local_day(line.ordered_at).isoformat(),
            "quantity": {"value": line.quantity},
            "unitPrice": money(line.hospital_unit_price),
            "net": money(line.hospital_amount),
        })
    return {
        "resourceType": "Claim",
        # MA_LK scoped by facility, so the insurer's answer can be matched back to the visit.
        "identifier": [{"system": f"urn:vn:bhyt:{visit.facility_code}:ma-lk", "value": visit.ma_lk}],
        "status": "active",
        "type": _claim_type(visit),
        "use": "claim",
        "patient": {"reference": urls["patient"]},
        "billablePeriod": {"start": fhir_datetime(visit.admitted_at), "end": fhir_datetime(visit.discharged_at)},
        "created": fhir_datetime(visit.discharged_at),  # deterministic: the claim is closed at discharge
        "insurer": {"display": insurer_name},
        "provider": _provider(visit, provider_name),
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": urls["coverage"]}}],
        "diagnosis": _diagnoses(visit),
        "supportingInfo": [{"sequence": 1, "category": {"coding": [{"system": CLAIM_INFO_SYSTEM, "code": "info"}],
                                                          "text": "Hoá đơn"},
                            "valueReference": {"reference": urls["invoice"]}}],
        "item": items,
        "total": money(sum(line.hospital_amount for _, line in _charge_lines(visit))),
    }


def _percent_value(value: int | Decimal) -> int | Decimal:
    """Return an integral percentage as int, else the Decimal (e.g. 47.5 out of network)."""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return value
    return int(value)


def _adjudication(code: str, **value: dict) -> dict:
    """Return one adjudication entry of the given category."""
    return {"category": {"coding": [{"system": ADJUDICATION_SYSTEM, "code": code}]}, **value}


def claim_response_resource(visit: ClaimVisit, urls: dict[str, str], insurer_name: str, provider_name: str) -> dict:
    """Build the ClaimResponse carrying the facility-computed benefit/copay/eligpercent split."""
    items = []
    for sequence, (_, line) in enumerate(_charge_lines(visit), start=1):
        items.append({
            "itemSequence": sequence,
            "adjudication": [
                _adjudication("submitted", amount=money(line.hospital_amount)),
                _adjudication("eligible", amount=money(line.insured_amount)),
                _adjudication("eligpercent", quantity={
                    "value": _percent_value(line.benefit_level), "unit": "%", "system": UCUM_SYSTEM, "code": "%",
                }),
                _adjudication("benefit", amount=money(line.insurer_amount)),
                _adjudication("copay", amount=money(line.copay_amount)),
            ],
        })
    lines = [line for _, line in _charge_lines(visit)]
    return {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": _claim_type(visit),
        "use": "claim",
        "patient": {"reference": urls["patient"]},
        "created": fhir_datetime(visit.discharged_at),
        "insurer": {"display": insurer_name},
        "requestor": _provider(visit, provider_name),
        "request": {"reference": urls["claim"]},
        "outcome": "queued",
        "disposition": PENDING_DISPOSITION,
        "item": items,
        "total": [
            _adjudication("submitted", amount=money(sum(line.hospital_amount for line in lines))),
            _adjudication("benefit", amount=money(sum(line.insurer_amount for line in lines))),
            _adjudication("copay", amount=money(sum(line.copay_amount for line in lines))),
        ],
    }


def visit_bundle_entries(
    visit: ClaimVisit, insurer_name: str = DEFAULT_INSURER, provider_name: str = ""
) -> list[dict]:
    """Return the Bundle entries (Patient, Coverage, ChargeItems, Invoice, Claim, ClaimResponse) of one visit."""
    parts = ["patient", "coverage", *(part for part, _ in _charge_lines(visit)), "invoice", "claim", "claim-response"]
    urls = {part: entry_uuid(visit.ma_lk, part) for part in parts}
    entries = [
        _entry(urls["patient"], patient_resource(visit)),
        _entry(urls["coverage"], coverage_resource(visit, urls["patient"], insurer_name)),
    ]
    for part, line in _charge_lines(visit):
        entries.append(_entry(urls[part], charge_item_resource(line, urls["patient"])))
    entries.append(_entry(urls["invoice"], invoice_resource(visit, urls, provider_name)))
    entries.append(_entry(urls["claim"], claim_resource(visit, urls, insurer_name, provider_name)))
    entries.append(_entry(urls["claim-response"], claim_response_resource(visit, urls, insurer_name, provider_name)))
    return entries


def bundle_for(
    visits: Iterable[ClaimVisit], insurer_name: str = DEFAULT_INSURER, provider_name: str = ""
) -> dict:
    """Return a collection Bundle of all visits."""
    entries = [entry for visit in visits for entry in visit_bundle_entries(visit, insurer_name, provider_name)]
    bundle: dict = {"resourceType": "Bundle", "type": "collection"}
    if entries:  # FHIR JSON forbids empty arrays
        bundle["entry"] = entries
    return bundle


# json has no exact output for Decimal (only via float), so Decimals go out as marked strings that are then unquoted.
# NUL cannot occur in FHIR strings, so the marker cannot clash with data.
_DECIMAL_MARK = "\x00decimal\x00"
_DECIMAL_TOKEN = re.compile(r'"\\u0000decimal\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000decimal\\u0000"')


def _decimal_marker(value: object) -> str:
    """Stand in for a Decimal while json encodes."""
    if isinstance(value, Decimal) and value.is_finite():
        return f"{_DECIMAL_MARK}{format(value, 'f')}{_DECIMAL_MARK}"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(resource: dict) -> bytes:
    """Encode a JSON-like value as compact UTF-8 JSON, writing Decimals as exact JSON numbers."""
    text = json.dumps(resource, ensure_ascii=False, separators=(",", ":"), default=_decimal_marker)
    return _DECIMAL_TOKEN.sub(r"\1", text).encode("utf-8")


def iter_bundle_json(
    visits: Iterable[ClaimVisit], insurer_name: str = DEFAULT_INSURER, provider_name: str = ""
) -> Iterator[bytes]:
    """Yield the collection Bundle as UTF-8 JSON, one entry per chunk."""
    yield b'{"resourceType":"Bundle","type":"collection"'
    separator = b',"entry":['  # opened lazily: FHIR JSON forbids an empty "entry" array
    for visit in visits:
        for entry in visit_bundle_entries(visit, insurer_name, provider_name):
            yield separator + dumps(entry)
            separator = b","
    yield b"}" if separator != b"," else b"]}"
