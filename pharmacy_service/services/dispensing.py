"""Prescriptions and dispensing: FEFO over usable lots, guarded decrements, one charge per dispensed line."""

from collections import defaultdict

from common import clock
from common.auth import actor
from common.charges import publish_charges_created
from common.errors import ApiError, ValidationFailed, get_or_404
from common.models import utcnow
from common.stock import stock_attempts
from pharmacy_service import store
from pharmacy_service.models import (
    Dispense,
    DispenseLine,
    DispenseLotPick,
    Drug,
    DrugLot,
    Prescription,
    PrescriptionLine,
    db,
)
from pharmacy_service.services import alerts, fefo
from pharmacy_service.services.moves import lot_condition


def create_prescription(fields: dict) -> Prescription:
    """Record a prescription for a visit; every drug must be in the catalogue."""
    codes = {line["drug_code"] for line in fields["lines"]}
    drugs = {d.code: d for d in Drug.select().where(Drug.code.in_(sorted(codes)))}
    unknown = sorted(codes - set(drugs))
    if unknown:
        raise ValidationFailed(f"Unknown drug code(s): {', '.join(unknown)}", code="DRUG_NOT_FOUND",
                               errors={"lines": [f"unknown drug {c}" for c in unknown]})
    with db.atomic():
        prescription = Prescription.create(encounter_id=fields["encounter_id"], patient_id=fields["patient_id"],
                                           prescriber=fields["prescriber"], prescriber_id=fields.get("prescriber_id"),
                                           created_by=actor())
        for line in fields["lines"]:
            PrescriptionLine.create(prescription=prescription.id, drug=drugs[line["drug_code"]].id,
                                    quantity=line["quantity"], instructions=line.get("instructions", ""))
    return prescription


def get_prescription(prescription_id: int) -> Prescription:
    """Return a prescription or raise 404."""
    return get_or_404(Prescription, Prescription.id == prescription_id,
                      detail=f"No prescription {prescription_id}", code="PRESCRIPTION_NOT_FOUND")


def _requested_lines(prescription_id: int, requested: list[dict]) -> list[tuple[PrescriptionLine, int]]:
    """Match the requested line ids to the prescription's lines (with their drugs), in line-id order.

    404 for no such prescription, 422 for a line not on it or asked for twice.
    """
    lines = {line.id: line for line in store.prescription_lines(prescription_id)}
    if not lines:
        get_prescription(prescription_id)  # 404 when there is no such prescription
    wanted: dict[int, int] = {}
    for item in requested:
        if item["line_id"] not in lines:
            raise ValidationFailed(f"Line {item['line_id']} is not on prescription {prescription_id}",
                                   code="UNKNOWN_LINE", errors={"lines": [f"unknown line {item['line_id']}"]})
        if item["line_id"] in wanted:
            raise ValidationFailed(f"Line {item['line_id']} is asked for twice", code="DUPLICATE_LINE",
                                   errors={"lines": [f"line {item['line_id']} twice"]})
        wanted[item["line_id"]] = item["quantity"]
    return [(lines[line_id], wanted[line_id]) for line_id in sorted(wanted)]


def _claim_lines(wanted: list[tuple[PrescriptionLine, int]]) -> None:
    """Count each quantity against its line's remainder; 422 for the first line it would take past the script."""
    refused = store.claim_lines({line.id: quantity for line, quantity in wanted})
    if refused is not None:
        line, quantity = next((line, quantity) for line, quantity in wanted if line.id == refused)
        raise _exceeds(line, quantity, store.line_remainder(line.id))


def _exceeds(line: PrescriptionLine, quantity: int, left: int) -> ApiError:
    return ApiError(f"Line {line.id} ({line.drug.code}) has {left} {line.drug.base_unit} left to dispense, "
                    f"not {quantity}", code="EXCEEDS_PRESCRIPTION", status=422, line_id=line.id, remaining=left)


def dispense(prescription_id: int, requested: list[dict]) -> dict:
    """Dispense prescription lines in one transaction: claim the lines, take stock FEFO, publish the charges."""
    wanted = _requested_lines(prescription_id, requested)
    prescription, today = wanted[0][0].prescription, clock.today()
    for attempt in stock_attempts():
        with attempt, db.atomic():
            _claim_lines(wanted)  # lines first (by id), then lots (by id): one lock order, no deadlocks
            plan = fefo.plan_picks(wanted, store.usable_lots([line.drug_id for line, _ in wanted], today))
            record = store.add_dispense(prescription=prescription, encounter_id=prescription.encounter_id,
                                        patient_id=prescription.patient_id, dispensed_by=actor(), created_at=utcnow())
            lines = _write_lines(record, wanted, plan)
            publish_charges_created([_charge(record, line, picks) for line, picks in lines])
            balances = fefo.take_planned(plan, f"dispense:{record.id}", today)
            alerts.recheck_after_commit(fefo.drugs_to_recheck(plan, balances, wanted))
            return _view(record, lines)


def plan_dispense(prescription_id: int, requested: list[dict]) -> dict:
    """Show what dispensing these quantities (none given: every line's remainder) would take, FEFO, without taking
    anything: per line the lots it would come from, what the usable lots cannot give, and every lot of the drug
    holding stock with its condition (usable, quarantined, recalled, expired). The dispense plans the same way."""
    if not requested:
        requested = [{"line_id": line.id, "quantity": line.quantity - line.quantity_dispensed}
                     for line in store.prescription_lines(prescription_id) if line.quantity > line.quantity_dispensed]
    prescription = get_prescription(prescription_id)
    wanted = _requested_lines(prescription_id, requested) if requested else []
    for line, quantity in wanted:
        if quantity > line.quantity - line.quantity_dispensed:
            raise _exceeds(line, quantity, line.quantity - line.quantity_dispensed)
    today, drug_ids = clock.today(), sorted({line.drug_id for line, _ in wanted})
    usable = store.usable_lots(drug_ids, today)
    allocation = fefo.allocate(wanted, usable)
    held = (DrugLot.select().where(DrugLot.drug.in_(drug_ids)
                                   & ((DrugLot.quantity_on_hand > 0) | (DrugLot.quantity_quarantined > 0)))
            .order_by(DrugLot.expires_on, DrugLot.id))
    lots_of: dict[int, list[DrugLot]] = defaultdict(list)
    for lot in held:
        lots_of[lot.drug_id].append(lot)
    lines = []
    for line, quantity in wanted:
        picks, unmet = allocation[line.id]
        taken = {lot.id: count for lot, count in picks}
        drug = line.drug
        lines.append({
            "line_id": line.id, "drug_code": drug.code, "drug_name": f"{drug.name} {drug.strength}",
            "unit": drug.base_unit, "prescribed": line.quantity, "dispensed": line.quantity_dispensed,
            "remaining": line.quantity - line.quantity_dispensed, "requested": quantity, "served": quantity - unmet,
            "unmet": unmet, "usable": sum(lot.quantity_on_hand for lot in usable[line.drug_id]),
            "picks": [{"lot_id": lot.id, "lot_number": lot.lot_number, "expires_on": lot.expires_on,
                       "quantity": count} for lot, count in picks],
            "lots": [{"lot_id": lot.id, "lot_number": lot.lot_number, "expires_on": lot.expires_on,
                      "quantity_on_hand": lot.quantity_on_hand, "quantity_quarantined": lot.quantity_quarantined,
                      "status": lot.status, "status_reason": lot.status_reason,
                      "condition": lot_condition(lot, today), "planned": taken.get(lot.id, 0)}
                     for lot in lots_of[line.drug_id]]})
    return {"prescription_id": prescription.id, "encounter_id": prescription.encounter_id,
            "patient_id": prescription.patient_id, "lines": lines}


def _write_lines(record: Dispense, wanted: list[tuple[PrescriptionLine, int]],
                 plan: dict[int, list[tuple[DrugLot, int]]]) -> list[tuple[DispenseLine, list]]:
    """Write the dispense's lines and the lots each came from; return each line with its picks."""
    lines = {}
    for prescribed, quantity in wanted:
        drug = prescribed.drug
        lines[prescribed.id] = DispenseLine(
            dispense=record.id, prescription_line=prescribed.id, drug=drug, quantity=quantity, quantity_returned=0,
            unit_price_amount=drug.price_amount, amount=drug.price_amount * quantity,
            cost_amount=sum(lot.unit_cost_amount * taken for lot, taken in plan[prescribed.id]))
    ids = store.add_dispense_lines(list(lines.values()))
    for prescribed_id, line in lines.items():
        line.id = ids[prescribed_id]
    store.add_lot_picks([{"dispense_line": line.id, "lot": lot.id, "quantity": taken, "quantity_returned": 0,
                          "unit_cost_amount": lot.unit_cost_amount}
                         for prescribed_id, line in lines.items() for lot, taken in plan[prescribed_id]])
    return [(line, plan[prescribed_id]) for prescribed_id, line in lines.items()]


def _charge(record: Dispense, line: DispenseLine, picks: list[tuple[DrugLot, int]]) -> dict:
    """Build the charge.created a dispensed line makes for the gateway."""
    drug = line.drug
    return {
        "key": f"pharmacy:dispense-line:{line.id}", "source": "pharmacy", "source_id": str(line.id),
        "encounter_id": record.encounter_id, "patient_id": record.patient_id, "item_kind": "drug",
        "code": drug.code, "name": drug.name, "unit": drug.unit_name, "quantity": line.quantity,
        "unit_price_amount": drug.price_amount, "insurance_unit_price_amount": drug.price_amount,
        "insurance_covered": drug.insurance_scope == 1, "insurance_rate": drug.insurance_rate,
        "amount": line.amount, "cost_amount": line.cost_amount, "occurred_at": record.created_at,
        "ordered_by_id": record.prescription.prescriber_id,
        "details": {"atc_code": drug.atc_code, "active_ingredient": drug.active_ingredient,
                    "strength": drug.strength, "route": drug.route, "dosage_form": drug.dosage_form,
                    "registration_number": drug.registration_number,
                    "prescription_line_id": line.prescription_line_id,
                    "lots": [{"lot_id": lot.id, "lot_number": lot.lot_number, "expires_on": lot.expires_on.isoformat(),
                              "quantity": taken} for lot, taken in picks]},
    }


def _line_view(line: DispenseLine, lots: list[dict]) -> dict:
    """Describe a dispensed line with the lots it came from."""
    return {"id": line.id, "prescription_line_id": line.prescription_line_id, "drug_code": line.drug.code,
            "unit": line.drug.base_unit, "quantity": line.quantity, "quantity_returned": line.quantity_returned,
            "unit_price_amount": line.unit_price_amount, "amount": line.amount, "cost_amount": line.cost_amount,
            "charge_key": f"pharmacy:dispense-line:{line.id}", "lots": lots}


def _view(record: Dispense, lines: list[tuple[DispenseLine, list]]) -> dict:
    """Describe a dispense as it was just written."""
    views = [_line_view(line, [{"lot_id": lot.id, "lot_number": lot.lot_number,
                                "expires_on": lot.expires_on.isoformat(), "quantity": taken, "quantity_returned": 0}
                               for lot, taken in picks]) for line, picks in lines]
    return _dispense_view(record, views)


def _dispense_view(record: Dispense, views: list[dict]) -> dict:
    return {"id": record.id, "prescription_id": record.prescription_id, "encounter_id": record.encounter_id,
            "patient_id": record.patient_id, "dispensed_by": record.dispensed_by, "created_at": record.created_at,
            "lines": views, "total_amount": sum(line["amount"] for line in views)}


def dispense_view(dispense_id: int) -> dict:
    """Return a dispense as it reads: its lines with the lots each came from and what came back."""
    record = get_dispense(dispense_id)
    lines = list(DispenseLine.select(DispenseLine, Drug).join(Drug)
                 .where(DispenseLine.dispense == record.id).order_by(DispenseLine.id))
    picks = defaultdict(list)
    for pick in (DispenseLotPick.select(DispenseLotPick, DrugLot).join(DrugLot)
                 .where(DispenseLotPick.dispense_line.in_([line.id for line in lines])).order_by(DispenseLotPick.id)):
        picks[pick.dispense_line_id].append({
            "lot_id": pick.lot_id, "lot_number": pick.lot.lot_number, "expires_on": pick.lot.expires_on.isoformat(),
            "quantity": pick.quantity, "quantity_returned": pick.quantity_returned})
    return _dispense_view(record, [_line_view(line, picks[line.id]) for line in lines])


def get_dispense(dispense_id: int) -> Dispense:
    """Return a dispense or raise 404."""
    return get_or_404(Dispense, Dispense.id == dispense_id, detail=f"No dispense {dispense_id}",
                      code="DISPENSE_NOT_FOUND")
