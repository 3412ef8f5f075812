"""Prescriptions and dispensing: FEFO over usable lots, guarded decrements, one charge per dispensed line."""

from collections import defaultdict
from contextlib import contextmanager
from typing import NamedTuple

import peewee

from common.charges import publish_charges_created
from common.errors import ApiError, Conflict, NotFound, ValidationFailed
from common.idempotency import at_commit, request_transaction_reruns
from common.models import utcnow
from common.sql import database_of, execute, fetch_all, fetch_one, insert_row, row_count
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
from pharmacy_service.services.fefo import (
    LOT_COLUMNS,
    USABLE_LOT,
    StockMoved,
    UsableLot,
    drugs_to_recheck,
    plan_picks,
    take_planned,
    usable_lot,
    usable_lots,
)
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
                                           prescriber=fields["prescriber"], prescriber_id=fields.get("prescriber_id"),
                                           created_by=actor())
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


class DrugFacts(NamedTuple):
    """What a dispense needs of a drug: its charge, its error messages and its reorder level."""

    id: int
    code: str
    name: str
    active_ingredient: str
    strength: str
    dosage_form: str
    route: str
    atc_code: str
    registration_number: str
    base_unit: str
    price_amount: int
    insurance_scope: int
    insurance_rate: int
    reorder_level: int
    unit_name: str  # DON_VI_TINH of the charge


class RequestedLine(NamedTuple):
    """A prescription line asked for in a dispense."""

    id: int
    drug_id: int
    drug: DrugFacts


class PrescriptionFacts(NamedTuple):
    id: int
    encounter_id: str
    patient_id: str
    prescriber_id: str | None  # MA_BAC_SI of its charges


# The prescription, all its lines (to tell unknown line ids), their drugs and the usable lots of the requested lines,
# earliest expiry first, in one read. Planning from it is a plain read as before: nothing is locked until the
# guarded decrements at the end, which send a dispense that planned on stale figures round again (StockMoved).
_READ_SQL = f"""
SELECT p.id, p.encounter_id, p.patient_id, l.id, d.id, d.code, d.name, d.active_ingredient, d.strength,
       d.dosage_form, d.route, d.atc_code, d.registration_number, d.base_unit, d.price_amount, d.insurance_scope,
       d.insurance_rate, d.reorder_level, {LOT_COLUMNS}, d.unit_name, p.prescriber_id
FROM prescription AS p
LEFT JOIN prescription_line AS l ON l.prescription_id = p.id
LEFT JOIN drug AS d ON d.id = l.drug_id
LEFT JOIN drug_lot AS lot ON lot.drug_id = d.id AND l.id IN ({{lines}}) AND {USABLE_LOT}
WHERE p.id = %s
ORDER BY l.id, lot.expires_on, lot.id
"""
_PRESCRIPTION, _DRUG, _LOT, _UNIT_NAME, _PRESCRIBER = slice(0, 3), slice(4, 18), slice(18, 24), 24, 25


def _read(prescription_id: int, requested: list[dict], today):
    """Read the prescription, match the requested lines (in lock order, line id) and their drugs' usable lots.

    404 for no such prescription, 422 for a line not on it or asked for twice.
    """
    line_ids = sorted({item["line_id"] for item in requested})
    rows = fetch_all(Prescription, _READ_SQL.format(lines=", ".join(["%s"] * len(line_ids))),
                     (*line_ids, today, prescription_id), prepared=True)
    if not rows:
        raise NotFound(f"No prescription {prescription_id}", code="PRESCRIPTION_NOT_FOUND")
    prescription = PrescriptionFacts(*rows[0][_PRESCRIPTION], rows[0][_PRESCRIBER])
    lines: dict[int, RequestedLine] = {}
    lots_by_drug: dict[int, dict[int, UsableLot]] = defaultdict(dict)
    for row in rows:
        line_id = row[3]
        if line_id is None:
            continue
        if line_id not in lines:
            lines[line_id] = RequestedLine(line_id, row[4], DrugFacts(*row[_DRUG], row[_UNIT_NAME]))
        if row[18] is not None:
            lots_by_drug[row[4]].setdefault(row[18], usable_lot(row[_LOT]))
    wanted: dict[int, int] = {}
    for item in requested:
        if item["line_id"] not in lines:
            raise ValidationFailed(f"Line {item['line_id']} is not on prescription {prescription.id}",
                                   code="UNKNOWN_LINE", errors={"lines": [f"unknown line {item['line_id']}"]})
        if item["line_id"] in wanted:
            raise ValidationFailed(f"Line {item['line_id']} is asked for twice", code="DUPLICATE_LINE",
                                   errors={"lines": [f"line {item['line_id']} twice"]})
        wanted[item["line_id"]] = item["quantity"]
    lots = {drug_id: list(by_id.values()) for drug_id, by_id in lots_by_drug.items()}
    return prescription, [(lines[line_id], wanted[line_id]) for line_id in sorted(wanted)], lots


# PostgreSQL: every line in one round trip, locked in id order first (as one UPDATE per line would, in turn) so two
# dispenses of one prescription cannot deadlock; the guarded UPDATE returns the lines it could count.
_CLAIM_SQL = """
SELECT 1 FROM prescription_line WHERE id IN ({ids}) ORDER BY id FOR NO KEY UPDATE;
UPDATE prescription_line SET quantity_dispensed = prescription_line.quantity_dispensed + wanted.qty
FROM (VALUES {values}) AS wanted(line_id, qty)
WHERE prescription_line.id = wanted.line_id AND prescription_line.quantity_dispensed + wanted.qty
      <= prescription_line.quantity
RETURNING prescription_line.id
"""
_CLAIM_ONE_SQL = ("UPDATE prescription_line SET quantity_dispensed = quantity_dispensed + %s"
                  " WHERE id = %s AND quantity_dispensed + %s <= quantity")


def _claim_lines(lines: list[tuple[RequestedLine, int]], prefix: str) -> None:
    """Count each quantity against its line's remainder with guarded updates, in line-id order.

    422 for the first line it would take past what was prescribed. `prefix` is run first in the same round trip.
    """
    database = database_of(PrescriptionLine)
    if isinstance(database, peewee.PostgresqlDatabase):
        text = prefix + _CLAIM_SQL.format(ids=", ".join(["%s"] * len(lines)),
                                          values=", ".join(["(%s::integer, %s::integer)"] * len(lines)))
        params = [line.id for line, _ in lines]
        for line, quantity in lines:
            params += [line.id, quantity]
        claimed = {row[0] for row in execute(database, text, params).fetchall()}
    else:
        claimed = set()
        for line, quantity in lines:
            if not row_count(PrescriptionLine, _CLAIM_ONE_SQL, (quantity, line.id, quantity)):
                break
            claimed.add(line.id)
    for line, quantity in lines:
        if line.id not in claimed:
            prescribed, dispensed = fetch_one(PrescriptionLine, "SELECT quantity, quantity_dispensed FROM "
                                                                "prescription_line WHERE id = %s", (line.id,))
            left = prescribed - dispensed
            raise ApiError(f"Line {line.id} ({line.drug.code}) has {left} {line.drug.base_unit} left to dispense, "
                           f"not {quantity}", code="EXCEEDS_PRESCRIPTION", status=422, line_id=line.id,
                           remaining=left)


MAX_PLANS = 20
_SAVEPOINT = "pharmacy_dispense"


@contextmanager
def _attempt():
    """One attempt of a dispense, undone as a whole on StockMoved; yields SQL to run ahead of its first statement.

    Inside the request's transaction on PostgreSQL the savepoint rides on the attempt's first round trip and is
    never released (COMMIT does that); anywhere else this is `db.atomic()`.
    """
    database = database_of(Dispense)
    if isinstance(database, peewee.PostgresqlDatabase) and database.in_transaction():
        try:
            yield f"SAVEPOINT {_SAVEPOINT};\n"
        except StockMoved:
            execute(database, f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            raise
    else:
        with db.atomic():
            yield ""


def dispense(prescription_id: int, requested: list[dict]) -> dict:
    """Dispense prescription lines in one transaction: claim the lines, take stock FEFO, publish the charges."""
    today = local_today()
    prescription, lines, lots_by_drug = _read(prescription_id, requested, today)
    for _ in range(MAX_PLANS):
        try:
            with _attempt() as prefix:
                view, recheck = _dispense_once(prescription, lines, lots_by_drug, today, prefix)
            break
        except StockMoved:
            lots_by_drug = usable_lots([line.drug_id for line, _ in lines], today)
            continue  # another dispense took from a lot we planned on: everything rolled back, plan again
    else:
        raise Conflict("Stock of these drugs kept changing during the dispense; try again", code="STOCK_BUSY")
    if recheck:
        alerts.recheck_after_commit(recheck)
    return view


def _dispense_once(prescription: PrescriptionFacts, lines: list[tuple[RequestedLine, int]],
                   lots_by_drug: dict[int, list[UsableLot]], today, prefix: str) -> tuple[dict, set[int]]:
    """Do one attempt of a dispense; the hot lot rows are locked only at the very end."""
    _claim_lines(lines, prefix)  # lines first (by id), then lots (by drug): one lock order, no deadlocks
    plan = plan_picks(lines, lots_by_drug)
    created_at, who = utcnow(), actor()
    costs = {line.id: sum(lot.unit_cost_amount * taken for lot, taken in plan[line.id]) for line, _ in lines}
    dispense_id, line_ids = _insert_dispense(prescription, lines, plan, costs, created_at, who)
    views, charges = zip(*[_line_and_charge(prescription, line_ids[line.id], line, quantity, plan[line.id],
                                            costs[line.id], created_at) for line, quantity in lines], strict=True)
    views = list(views)
    publish_charges_created(list(charges))  # one charge.created per line, in one statement
    view = {"id": dispense_id, "prescription_id": prescription.id, "encounter_id": prescription.encounter_id,
            "patient_id": prescription.patient_id, "dispensed_by": who, "created_at": created_at,
            "lines": views, "total_amount": sum(line["amount"] for line in views)}
    reference = f"dispense:{dispense_id}"
    if request_transaction_reruns():
        # In an idempotent request the hot lot rows are taken after its response is stored, right before COMMIT;
        # a lost race there reruns the whole request (RetryTransaction) instead of this attempt.
        at_commit(lambda: _take_at_commit(plan, reference, today, lines))
        return view, set()
    balances = take_planned(plan, reference, today)
    return view, drugs_to_recheck(plan, balances, lines)


def _take_at_commit(plan: dict, reference: str, today, lines) -> bool:
    try:
        balances = take_planned(plan, reference, today)
    except StockMoved:
        return False
    recheck = drugs_to_recheck(plan, balances, lines)
    if recheck:
        alerts.recheck_after_commit(recheck)
    return True


# PostgreSQL: the dispense, its lines and their lot picks in one round trip. Rows are numbered in the order the
# per-statement inserts used (lines by line id, picks by line then FEFO), so ids and reads stay as they were.
_INSERT_SQL = """
WITH record AS (
    INSERT INTO dispense (prescription_id, encounter_id, patient_id, dispensed_by, created_at)
    VALUES (%s, %s, %s, %s, %s) RETURNING id
), dispensed AS (
    INSERT INTO dispense_line (dispense_id, prescription_line_id, drug_id, quantity, quantity_returned,
                               unit_price_amount, amount, cost_amount)
    SELECT record.id, wanted.line_id, wanted.drug_id, wanted.qty, 0, wanted.price, wanted.amount, wanted.cost
    FROM record, (VALUES {lines}) AS wanted(line_id, drug_id, qty, price, amount, cost)
    ORDER BY wanted.line_id
    RETURNING id, prescription_line_id
), picked AS (
    INSERT INTO dispense_lot_pick (dispense_line_id, lot_id, quantity, quantity_returned, unit_cost_amount)
    SELECT dispensed.id, pick.lot_id, pick.qty, 0, pick.cost
    FROM dispensed JOIN (VALUES {picks}) AS pick(n, line_id, lot_id, qty, cost)
         ON pick.line_id = dispensed.prescription_line_id
    ORDER BY pick.n
)
SELECT (SELECT id FROM record), id, prescription_line_id FROM dispensed
"""
_LINE_VALUES = "(%s::integer, %s::integer, %s::integer, %s::bigint, %s::bigint, %s::bigint)"
_PICK_VALUES = "(%s::integer, %s::integer, %s::integer, %s::integer, %s::bigint)"


def _insert_dispense(prescription: PrescriptionFacts, lines: list[tuple[RequestedLine, int]], plan: dict,
                     costs: dict[int, int], created_at, who: str) -> tuple[int, dict[int, int]]:
    """Write the dispense, its lines and their lot picks; return its id and each line's dispense-line id."""
    database = database_of(Dispense)
    if not isinstance(database, peewee.PostgresqlDatabase):
        dispense_id = insert_row(Dispense, prescription=prescription.id, encounter_id=prescription.encounter_id,
                                 patient_id=prescription.patient_id, dispensed_by=who, created_at=created_at)
        line_ids, picks = {}, []
        for line, quantity in lines:
            line_ids[line.id] = insert_row(
                DispenseLine, dispense=dispense_id, prescription_line=line.id, drug=line.drug_id, quantity=quantity,
                quantity_returned=0, unit_price_amount=line.drug.price_amount,
                amount=line.drug.price_amount * quantity, cost_amount=costs[line.id])
            picks += [(line_ids[line.id], lot.id, taken, 0, lot.unit_cost_amount) for lot, taken in plan[line.id]]
        execute(database, "INSERT INTO dispense_lot_pick (dispense_line_id, lot_id, quantity, quantity_returned, "
                          f"unit_cost_amount) VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(picks))}",
                [value for pick in picks for value in pick])
        return dispense_id, line_ids
    params = [prescription.id, prescription.encounter_id, prescription.patient_id, who,
              Dispense.created_at.db_value(created_at)]
    for line, quantity in lines:
        params += [line.id, line.drug_id, quantity, line.drug.price_amount, line.drug.price_amount * quantity,
                   costs[line.id]]
    picks = 0
    for line, _ in lines:
        for lot, taken in plan[line.id]:
            params += [picks, line.id, lot.id, taken, lot.unit_cost_amount]
            picks += 1
    text = _INSERT_SQL.format(lines=", ".join([_LINE_VALUES] * len(lines)), picks=", ".join([_PICK_VALUES] * picks))
    rows = execute(database, text, params, prepared=True).fetchall()
    return rows[0][0], {line_id: dispense_line_id for _, dispense_line_id, line_id in rows}


def _line_and_charge(prescription: PrescriptionFacts, dispense_line_id: int, line: RequestedLine, quantity: int,
                     picks: list[tuple[UsableLot, int]], cost: int, created_at) -> tuple[dict, dict]:
    """Return how a dispensed line reads and the charge.created event it makes for the gateway."""
    drug = line.drug
    amount = drug.price_amount * quantity
    lots = [{"lot_id": lot.id, "lot_number": lot.lot_number, "expires_on": lot.expires_on.isoformat(),
             "quantity": taken, "quantity_returned": 0} for lot, taken in picks]
    charge_key = f"pharmacy:dispense-line:{dispense_line_id}"
    charge = {
        "key": charge_key, "source": "pharmacy", "source_id": str(dispense_line_id),
        "encounter_id": prescription.encounter_id, "patient_id": prescription.patient_id, "item_kind": "drug",
        "code": drug.code, "name": drug.name, "unit": drug.unit_name, "quantity": quantity,
        "unit_price_amount": drug.price_amount, "insurance_unit_price_amount": drug.price_amount,
        "insurance_covered": drug.insurance_scope == 1, "insurance_rate": drug.insurance_rate,
        "amount": amount, "cost_amount": cost, "occurred_at": created_at, "ordered_by_id": prescription.prescriber_id,
        "details": {"atc_code": drug.atc_code, "active_ingredient": drug.active_ingredient,
                    "strength": drug.strength, "route": drug.route, "dosage_form": drug.dosage_form,
                    "registration_number": drug.registration_number, "prescription_line_id": line.id,
                    "lots": [{k: lot[k] for k in ("lot_id", "lot_number", "expires_on", "quantity")} for lot in lots]},
    }
    view = {"id": dispense_line_id, "prescription_line_id": line.id, "drug_code": drug.code, "unit": drug.base_unit,
            "quantity": quantity, "quantity_returned": 0, "unit_price_amount": drug.price_amount,
            "amount": amount, "cost_amount": cost, "charge_key": charge_key, "lots": lots}
    return view, charge


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
