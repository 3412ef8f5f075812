"""Prescriptions and dispensing: FEFO over usable lots, guarded decrements, one charge per dispensed line."""

from collections import defaultdict

from common.charges import publish_charge_created
from common.errors import ApiError, Conflict, NotFound, ValidationFailed
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
from pharmacy_service.services import alerts
from pharmacy_service.services.fefo import StockMoved, drugs_to_recheck, plan_picks, take_planned
from pharmacy_service.services.moves import actor, local_today


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
                                           prescriber=fields["prescriber"], created_by=actor())
        for line in fields["lines"]:
            PrescriptionLine.create(prescription=prescription.id, drug=drugs[line["drug_code"]].id,
                                    quantity=line["quantity"], instructions=line.get("instructions", ""))
    return prescription


def get_prescription(prescription_id: int) -> Prescription:
    """Return a prescription or raise 404."""
    prescription = Prescription.get_or_none(Prescription.id == prescription_id)
    if prescription is None:
        raise NotFound(f"No prescription {prescription_id}", code="PRESCRIPTION_NOT_FOUND")
    return prescription


def _requested_lines(prescription: Prescription, requested: list[dict]) -> list[tuple[PrescriptionLine, int]]:
    """Match the requested line ids to the prescription's lines, in lock order (line id)."""
    lines = {line.id: line for line in PrescriptionLine.select(PrescriptionLine, Drug).join(Drug)
             .where(PrescriptionLine.prescription == prescription.id)}
    wanted: dict[int, int] = {}
    for item in requested:
        if item["line_id"] not in lines:
            raise ValidationFailed(f"Line {item['line_id']} is not on prescription {prescription.id}",
                                   code="UNKNOWN_LINE", errors={"lines": [f"unknown line {item['line_id']}"]})
        if item["line_id"] in wanted:
            raise ValidationFailed(f"Line {item['line_id']} is asked for twice", code="DUPLICATE_LINE",
                                   errors={"lines": [f"line {item['line_id']} twice"]})
        wanted[item["line_id"]] = item["quantity"]
    return [(lines[line_id], wanted[line_id]) for line_id in sorted(wanted)]


def _claim_line(line: PrescriptionLine, quantity: int) -> None:
    """Count `quantity` against the line's remainder with a guarded update; 422 when it would exceed it."""
    claimed = (PrescriptionLine.update(quantity_dispensed=PrescriptionLine.quantity_dispensed + quantity)
               .where((PrescriptionLine.id == line.id)
                      & (PrescriptionLine.quantity_dispensed + quantity <= PrescriptionLine.quantity)).execute())
    if not claimed:
        remaining = PrescriptionLine.get_by_id(line.id)
        left = remaining.quantity - remaining.quantity_dispensed
        raise ApiError(f"Line {line.id} ({line.drug.code}) has {left} {line.drug.base_unit} left to dispense, "
                       f"not {quantity}", code="EXCEEDS_PRESCRIPTION", status=422, line_id=line.id, remaining=left)


MAX_PLANS = 20


def dispense(prescription_id: int, requested: list[dict]) -> dict:
    """Dispense prescription lines in one transaction: claim the lines, take stock FEFO, publish the charges."""
    prescription = get_prescription(prescription_id)
    lines = _requested_lines(prescription, requested)
    today = local_today()
    for _ in range(MAX_PLANS):
        try:
            with db.atomic():
                view, recheck = _dispense_once(prescription, lines, today)
            break
        except StockMoved:
            continue  # another dispense took from a lot we planned on: everything rolled back, plan again
    else:
        raise Conflict("Stock of these drugs kept changing during the dispense; try again", code="STOCK_BUSY")
    if recheck:
        alerts.recheck_after_commit(recheck)
    return view


def _dispense_once(prescription: Prescription, lines: list[tuple[PrescriptionLine, int]],
                   today) -> tuple[dict, set[int]]:
    """Do one attempt of a dispense; the hot lot rows are locked only at the very end."""
    for line, quantity in lines:  # lines first (by id), then lots (by drug): one lock order, no deadlocks
        _claim_line(line, quantity)
    plan = plan_picks(lines, today)
    record = Dispense.create(prescription=prescription.id, encounter_id=prescription.encounter_id,
                             patient_id=prescription.patient_id, dispensed_by=actor())
    views, picks = [], []
    for line, quantity in lines:
        view = _record_line(record, line, quantity, plan[line.id])
        picks += [{"dispense_line": view["id"], "lot": lot.id, "quantity": taken,
                   "unit_cost_amount": lot.unit_cost_amount} for lot, taken in plan[line.id]]
        views.append(view)
    DispenseLotPick.insert_many(picks).execute()
    balances = take_planned(plan, f"dispense:{record.id}", today)
    view = {"id": record.id, "prescription_id": prescription.id, "encounter_id": record.encounter_id,
            "patient_id": record.patient_id, "dispensed_by": record.dispensed_by, "created_at": record.created_at,
            "lines": views, "total_amount": sum(line["amount"] for line in views)}
    return view, drugs_to_recheck(plan, balances, lines)


def _record_line(record: Dispense, line: PrescriptionLine, quantity: int, picks: list[tuple[DrugLot, int]]) -> dict:
    """Write the dispensed line, queue its charge for the gateway, and return how it reads."""
    drug = line.drug
    cost = sum(lot.unit_cost_amount * taken for lot, taken in picks)
    dispensed = DispenseLine.create(dispense=record.id, prescription_line=line.id, drug=drug.id, quantity=quantity,
                                    unit_price_amount=drug.price_amount, amount=drug.price_amount * quantity,
                                    cost_amount=cost)
    lots = [{"lot_id": lot.id, "lot_number": lot.lot_number, "expires_on": lot.expires_on.isoformat(),
             "quantity": taken, "quantity_returned": 0} for lot, taken in picks]
    charge_key = f"pharmacy:dispense-line:{dispensed.id}"
    publish_charge_created({
        "key": charge_key, "source": "pharmacy", "source_id": str(dispensed.id),
        "encounter_id": record.encounter_id, "patient_id": record.patient_id, "item_kind": "drug",
        "code": drug.code, "name": drug.name, "unit": drug.base_unit, "quantity": quantity,
        "unit_price_amount": drug.price_amount, "insurance_unit_price_amount": drug.price_amount,
        "insurance_covered": drug.insurance_scope == 1, "insurance_rate": drug.insurance_rate,
        "amount": dispensed.amount, "cost_amount": cost, "occurred_at": record.created_at,
        "details": {"atc_code": drug.atc_code, "active_ingredient": drug.active_ingredient,
                    "strength": drug.strength, "route": drug.route, "dosage_form": drug.dosage_form,
                    "registration_number": drug.registration_number, "prescription_line_id": line.id,
                    "lots": [{k: lot[k] for k in ("lot_number", "expires_on", "quantity")} for lot in lots]},
    })
    return {"id": dispensed.id, "prescription_line_id": line.id, "drug_code": drug.code, "unit": drug.base_unit,
            "quantity": quantity, "quantity_returned": 0, "unit_price_amount": drug.price_amount,
            "amount": dispensed.amount, "cost_amount": cost, "charge_key": charge_key, "lots": lots}


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
    views = [{"id": line.id, "prescription_line_id": line.prescription_line_id, "drug_code": line.drug.code,
              "unit": line.drug.base_unit, "quantity": line.quantity, "quantity_returned": line.quantity_returned,
              "unit_price_amount": line.unit_price_amount, "amount": line.amount, "cost_amount": line.cost_amount,
              "charge_key": f"pharmacy:dispense-line:{line.id}", "lots": picks[line.id]} for line in lines]
    return {"id": record.id, "prescription_id": record.prescription_id, "encounter_id": record.encounter_id,
            "patient_id": record.patient_id, "dispensed_by": record.dispensed_by, "created_at": record.created_at,
            "lines": views, "total_amount": sum(line["amount"] for line in views)}


def get_dispense(dispense_id: int) -> Dispense:
    """Return a dispense or raise 404."""
    record = Dispense.get_or_none(Dispense.id == dispense_id)
    if record is None:
        raise NotFound(f"No dispense {dispense_id}", code="DISPENSE_NOT_FOUND")
    return record
