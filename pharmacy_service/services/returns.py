"""Returns of dispensed drugs: back to the lot they came from (quarantined if expired or recalled), charge reversed."""

from common import clock
from common.auth import actor
from common.charges import publish_charge_reversed
from common.errors import ApiError, ValidationFailed
from pharmacy_service.models import Dispense, DispenseLine, DispenseLotPick, Drug, DrugLot, DrugReturn, ReturnLine, db
from pharmacy_service.services import alerts
from pharmacy_service.services.dispensing import get_dispense
from pharmacy_service.services.moves import move_stock


def _requested(record: Dispense, items: list[dict]) -> list[tuple[DispenseLine, dict]]:
    """Match the returned line ids to the dispense's lines, in lock order (drug, then line)."""
    lines = {line.id: line for line in DispenseLine.select(DispenseLine, Drug).join(Drug)
             .where(DispenseLine.dispense == record.id)}
    seen = set()
    for item in items:
        if item["line_id"] not in lines:
            raise ValidationFailed(f"Line {item['line_id']} is not on dispense {record.id}", code="UNKNOWN_LINE",
                                   errors={"lines": [f"unknown line {item['line_id']}"]})
        if item["line_id"] in seen:
            raise ValidationFailed(f"Line {item['line_id']} is returned twice", code="DUPLICATE_LINE",
                                   errors={"lines": [f"line {item['line_id']} twice"]})
        seen.add(item["line_id"])
    pairs = [(lines[item["line_id"]], item) for item in items]
    return sorted(pairs, key=lambda pair: (pair[0].drug_id, pair[0].id))


def return_dispensed(dispense_id: int, fields: dict) -> DrugReturn:
    """Take drugs back from a dispense in one transaction and reverse their charges."""
    record = get_dispense(dispense_id)
    today = clock.today()
    pairs = _requested(record, fields["lines"])
    with db.atomic():
        drug_return = DrugReturn.create(dispense=record.id, reason=fields["reason"], returned_by=actor())
        for line, item in pairs:
            _claim_return(line, item["quantity"])
            return_line = ReturnLine.create(drug_return=drug_return.id, dispense_line=line.id,
                                            quantity=item["quantity"], amount=line.unit_price_amount * item["quantity"])
            _put_back(line, item["quantity"], item.get("lot_id"), f"return-line:{return_line.id}", fields["reason"],
                      today)
            publish_charge_reversed({
                "key": f"pharmacy:return:{drug_return.id}:line:{line.id}",
                "charge_key": f"pharmacy:dispense-line:{line.id}", "source": "pharmacy",
                "encounter_id": record.encounter_id, "quantity": item["quantity"], "amount": return_line.amount,
                "reason": fields["reason"], "occurred_at": drug_return.created_at,
            })
    alerts.recheck_after_commit({line.drug_id for line, _ in pairs})
    return drug_return


def _claim_return(line: DispenseLine, quantity: int) -> None:
    """Count `quantity` against what is still returnable on the line; 422 when it is more."""
    claimed = (DispenseLine.update(quantity_returned=DispenseLine.quantity_returned + quantity)
               .where((DispenseLine.id == line.id)
                      & (DispenseLine.quantity_returned + quantity <= DispenseLine.quantity)).execute())
    if not claimed:
        current = DispenseLine.get_by_id(line.id)
        returnable = current.quantity - current.quantity_returned
        raise ApiError(f"Only {returnable} {line.drug.base_unit} of line {line.id} can still be returned",
                       code="RETURN_EXCEEDS_DISPENSED", status=422, line_id=line.id, returnable=returnable)


def _put_back(line: DispenseLine, quantity: int, lot_id: int | None, reference: str, reason: str, today) -> None:
    """Put returned units back into the lots they were picked from, last picked first (or the named lot)."""
    picks = (DispenseLotPick.select(DispenseLotPick, DrugLot).join(DrugLot)
             .where(DispenseLotPick.dispense_line == line.id).order_by(DispenseLotPick.id.desc()))
    if lot_id is not None:
        picks = picks.where(DispenseLotPick.lot == lot_id)
    left = quantity
    for pick in picks:
        give = min(left, pick.quantity - pick.quantity_returned)
        if give <= 0:
            continue
        taken_back = (DispenseLotPick.update(quantity_returned=DispenseLotPick.quantity_returned + give)
                      .where((DispenseLotPick.id == pick.id)
                             & (DispenseLotPick.quantity_returned + give <= DispenseLotPick.quantity)).execute())
        if not taken_back:
            continue
        lot = pick.lot
        unusable = lot.status == "recalled" or lot.expires_on < today
        move_stock(lot.id, line.drug_id, give, kind="return", bucket="quarantine" if unusable else "shelf",
                   reason=reason, reference=reference)
        left -= give
        if not left:
            return
    raise ApiError(f"Only {quantity - left} {line.drug.base_unit} of line {line.id} came from lot {lot_id}",
                   code="RETURN_EXCEEDS_DISPENSED", status=422, line_id=line.id, returnable=quantity - left)
