"""Prescriptions and dispensing: FEFO over usable lots, guarded decrements, one charge per dispensed line."""

from peewee import fn

from common.charges import publish_charge_created
from common.errors import ApiError, InsufficientStock, NotFound, ValidationFailed
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
from pharmacy_service.services.moves import actor, local_today, move_stock, usable_condition


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


def _pick_fefo(drug: Drug, quantity: int, reference: str, today) -> list[tuple[DrugLot, int]]:
    """Take `quantity` from the drug's usable lots, earliest expiry first; 409 when usable stock is short."""
    picks: list[tuple[DrugLot, int]] = []
    needed = quantity
    lots = (DrugLot.select().where((DrugLot.drug == drug.id) & usable_condition(today)
                                   & (DrugLot.quantity_on_hand > 0))
            .order_by(DrugLot.expires_on, DrugLot.id))
    for lot in lots:
        available = lot.quantity_on_hand
        while needed and available > 0:
            take = min(needed, available)
            if move_stock(lot.id, drug.id, -take, kind="dispense", reference=reference, usable_on=today) is not None:
                picks.append((lot, take))
                needed -= take
                break
            # Someone took from this lot since we read it: look again at what is left, now that we hold no stale view.
            available = DrugLot.select(DrugLot.quantity_on_hand).where(
                (DrugLot.id == lot.id) & usable_condition(today)).scalar() or 0
        if not needed:
            return picks
    usable = quantity - needed + _usable_now(drug, today)
    raise InsufficientStock(f"{drug.name} {drug.strength}: {quantity} {drug.base_unit} asked, {usable} usable",
                            drug_code=drug.code, requested=quantity, usable=usable)


def _usable_now(drug: Drug, today) -> int:
    """Return the drug's usable quantity as this transaction sees it."""
    return (DrugLot.select(fn.COALESCE(fn.SUM(DrugLot.quantity_on_hand), 0))
            .where((DrugLot.drug == drug.id) & usable_condition(today)).scalar())


def dispense(prescription_id: int, requested: list[dict]) -> Dispense:
    """Dispense prescription lines in one transaction: claim the lines, take stock FEFO, publish the charges."""
    prescription = get_prescription(prescription_id)
    today = local_today()
    with db.atomic():
        lines = _requested_lines(prescription, requested)
        for line, quantity in lines:  # lines first (by id), then lots (by drug): one lock order, no deadlocks
            _claim_line(line, quantity)
        record = Dispense.create(prescription=prescription.id, encounter_id=prescription.encounter_id,
                                 patient_id=prescription.patient_id, dispensed_by=actor())
        for line, quantity in sorted(lines, key=lambda item: (item[0].drug_id, item[0].id)):
            picks = _pick_fefo(line.drug, quantity, f"dispense:{record.id}", today)
            _record_line(record, line, quantity, picks)
    alerts.recheck_after_commit({line.drug_id for line, _ in lines})
    return record


def _record_line(record: Dispense, line: PrescriptionLine, quantity: int, picks: list[tuple[DrugLot, int]]) -> None:
    """Write the dispensed line and its lot picks, and queue its charge for the gateway."""
    drug = line.drug
    cost = sum(lot.unit_cost_amount * taken for lot, taken in picks)
    dispensed = DispenseLine.create(dispense=record.id, prescription_line=line.id, drug=drug.id, quantity=quantity,
                                    unit_price_amount=drug.price_amount, amount=drug.price_amount * quantity,
                                    cost_amount=cost)
    DispenseLotPick.insert_many([
        {"dispense_line": dispensed.id, "lot": lot.id, "quantity": taken, "unit_cost_amount": lot.unit_cost_amount}
        for lot, taken in picks]).execute()
    publish_charge_created({
        "key": f"pharmacy:dispense-line:{dispensed.id}", "source": "pharmacy", "source_id": str(dispensed.id),
        "encounter_id": record.encounter_id, "patient_id": record.patient_id, "item_kind": "drug",
        "code": drug.code, "name": drug.name, "unit": drug.base_unit, "quantity": quantity,
        "unit_price_amount": drug.price_amount, "insurance_unit_price_amount": drug.price_amount,
        "insurance_covered": drug.insurance_scope == 1, "insurance_rate": drug.insurance_rate,
        "amount": dispensed.amount, "cost_amount": cost, "occurred_at": record.created_at,
        "details": {"atc_code": drug.atc_code, "active_ingredient": drug.active_ingredient,
                    "strength": drug.strength, "route": drug.route, "dosage_form": drug.dosage_form,
                    "registration_number": drug.registration_number, "prescription_line_id": line.id,
                    "lots": [{"lot_number": lot.lot_number, "expires_on": lot.expires_on.isoformat(),
                              "quantity": taken} for lot, taken in picks]},
    })
