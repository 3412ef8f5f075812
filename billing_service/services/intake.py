"""Charges, reversals and visit snapshots from the gateway: one invoice per visit, each charge a line with its split.

Every change re-splits all lines of the visit's bill at the visit's current benefit level (MUC_HUONG): the 15 %
low-cost rule depends on the visit's insured total, so a charge that lifts the total over 351 000 đồng (15 % of the
base salary) moves every insured line from 100 % to the card level, and a reversal that drops it back moves them
back. Money already received is never touched; a lower patient total shows as an overpayment flagged for refund.
Each line is paid by the card the gateway sent with its charge (the card valid on the charge's day), else by the
visit's latest card when that one is valid on the line's day (a card shown later), else the line is self-pay.
"""

import json
from datetime import date

import peewee
from flask import current_app

from billing_service import store
from billing_service.insurance import line_amounts, low_cost_visit, visit_benefit_level
from billing_service.models import EncounterSnapshot, Invoice, InvoiceLine, LineReversal, db
from billing_service.other_funding.grants import active_grants, store_applied
from billing_service.other_funding.rules import LineMoney, fund_lines
from billing_service.services.invoices import (
    ledger_row,
    lock_invoice,
    open_invoices,
    record_ledger,
    record_ledgers,
    refresh_invoice,
    save_bill_totals,
    with_lines_added,
)
from billing_service.services.recall_money import settle_recalled_line
from common import clock
from common.models import utcnow

LINE_SPLIT_COLUMNS = ("hospital_amount", "insured_amount", "benefit_level", "insurer_amount", "copay_amount",
                      "patient_outside_amount", "other_funding_amount", "self_pay", "state_budget_funding_amount",
                      "foreign_aid_funding_amount", "domestic_aid_funding_amount", "other_source_funding_amount")
SYSTEM_ACTOR = "gateway"
def _snapshot_row(encounter: dict) -> dict:
    """Turn an EncounterSnapshot event into the stored columns."""
    return {
        "encounter_id": encounter["id"], "patient_id": encounter["patient"]["id"], "kind": encounter["kind"],
        "department": encounter["department"], "in_network": encounter["in_network"],
        "network_rate": encounter["network_rate"], "status": encounter["status"],
        "opened_at": encounter["opened_at"], "discharged_at": encounter.get("discharged_at"),
        "diagnosis_main": encounter.get("diagnosis_main"), "diagnosis_other": encounter.get("diagnosis_other"),
        "patient_json": json.dumps(encounter["patient"], default=str, sort_keys=True),
        "coverage_json": json.dumps(encounter["coverage"], default=str, sort_keys=True)
        if encounter.get("coverage") else None,
        "practitioner_json": json.dumps(encounter["practitioner"], sort_keys=True, ensure_ascii=False)
        if encounter.get("practitioner") else None,
        "updated_at": utcnow(),
    }


def _keep_snapshots(encounters: list[dict]) -> dict[str, tuple[EncounterSnapshot, str]]:
    """Keep the latest snapshot of each of these visits (those stored read in one query): {encounter id: (snapshot,
    what happened)} (see _keep_snapshot)."""
    stored = {snapshot.encounter_id: snapshot for snapshot in EncounterSnapshot.select().where(
        EncounterSnapshot.encounter_id.in_(sorted(encounter["id"] for encounter in encounters)))}
    return {encounter["id"]: _store_snapshot(encounter, stored.get(encounter["id"])) for encounter in encounters}


def _keep_snapshot(encounter: dict) -> tuple[EncounterSnapshot, str]:
    """Store the latest snapshot of a visit (a closed visit is never replaced by an older open one); return it and
    what happened: "created", "changed" or "same"."""
    return _store_snapshot(encounter, EncounterSnapshot.get_or_none(EncounterSnapshot.encounter_id == encounter["id"]))


def _store_snapshot(encounter: dict, existing: EncounterSnapshot | None) -> tuple[EncounterSnapshot, str]:
    """_keep_snapshot, given the snapshot stored for the visit as the caller read it (None: none yet)."""
    row = _snapshot_row(encounter)
    if existing is None:
        try:
            with db.atomic():
                return EncounterSnapshot.create(**row), "created"
        except peewee.IntegrityError:
            existing = EncounterSnapshot.get(EncounterSnapshot.encounter_id == row["encounter_id"])
    if existing.status == "closed" and row["status"] == "open":
        return existing, "same"
    kept = EncounterSnapshot(id=existing.id, **row)
    if all(_same(kept, existing, name) for name in row if name != "updated_at"):
        return existing, "same"
    update = {k: v for k, v in row.items() if k != "encounter_id"}
    EncounterSnapshot.update(**update).where(EncounterSnapshot.id == existing.id).execute()
    return kept, "changed"


def _same(kept: EncounterSnapshot, stored: EncounterSnapshot, name: str) -> bool:
    """Tell whether a snapshot column holds the same value as stored (compared as the database gives it back)."""
    field = EncounterSnapshot._meta.fields[name]
    return field.python_value(field.db_value(getattr(kept, name))) == getattr(stored, name)


def _coverage_valid_on(coverage: dict | None, day: date) -> bool:
    if not coverage:
        return False
    valid_from, valid_to = (date.fromisoformat(str(coverage[k])) for k in ("valid_from", "valid_to"))
    return valid_from <= day <= valid_to


def _line_card(line: InvoiceLine, visit_coverage: dict | None) -> dict | None:
    """Return the card that pays for a line: the one sent with its charge, else the visit's, if valid that day."""
    day = clock.local_day(line.occurred_at)
    own = json.loads(line.coverage_json) if line.coverage_json else None
    for card in (own, visit_coverage):
        if _coverage_valid_on(card, day):
            return card
    return None


def _line_money(line: InvoiceLine, self_pay: bool) -> tuple[int, int]:
    """Return (THANH_TIEN_BV, THANH_TIEN_BH) of a line at its current quantity."""
    rate = line.insurance_rate if line.insurance_covered and not self_pay else 0
    return line_amounts(line.quantity, line.unit_price_amount, line.insurance_unit_price_amount, rate)


def _level(card: dict | None, snapshot: EncounterSnapshot, insured_total: int):
    if card is None:
        return 0
    return visit_benefit_level(int(card["benefit_level"]), snapshot.in_network, snapshot.network_rate,
                               insured_total, current_app.config["BASE_SALARY_AMOUNT"])


def resplit_invoice(invoice: Invoice, snapshot: EncounterSnapshot) -> None:
    """Split every line of the bill again at the visit's benefit level, with its other funding; store what changed."""
    lines = list(InvoiceLine.select().where(InvoiceLine.invoice == invoice.id).order_by(InvoiceLine.id))
    cards = {line.id: _line_card(line, snapshot.coverage) for line in lines}
    money = {line.id: _line_money(line, cards[line.id] is None) for line in lines}
    insured_total = sum(money[line.id][1] for line in lines if cards[line.id] is not None)
    levels = {line.id: _level(cards[line.id], snapshot, insured_total) for line in lines}
    funded, applied = fund_lines([LineMoney(line.id, *money[line.id], levels[line.id]) for line in lines],
                                 active_grants(invoice.id))
    for line in lines:
        values = _split_values(funded[line.id], levels[line.id], cards[line.id] is None)
        if any(getattr(line, column) != values[column] for column in LINE_SPLIT_COLUMNS):
            InvoiceLine.update(updated_at=utcnow(), **values).where(InvoiceLine.id == line.id).execute()
    store_applied(applied)
    visit_card = snapshot.coverage or next((cards[line.id] for line in reversed(lines) if cards[line.id]), None)
    Invoice.update(benefit_level=_level(visit_card, snapshot, insured_total)).where(Invoice.id == invoice.id).execute()


def _split_values(funded, level, self_pay: bool) -> dict:
    """The split columns of a line from its funded split."""
    split = funded.split
    return {"hospital_amount": split.hospital_amount, "insured_amount": split.insured_amount, "benefit_level": level,
            "insurer_amount": split.insurer_amount, "copay_amount": split.copay_amount,
            "patient_outside_amount": split.patient_outside_amount,
            "other_funding_amount": split.other_funding_amount, "self_pay": self_pay,
            **{f"{part}_funding_amount": amount for part, amount in funded.parts.items()}}


def settle_invoice(invoice: Invoice, kind: str, reference: str, note: str | None = None,
                   snapshot: EncounterSnapshot | None = None) -> Invoice:
    """Re-split the bill, recompute its totals, and ledger the change."""
    if snapshot is None:
        snapshot = EncounterSnapshot.get(EncounterSnapshot.encounter_id == invoice.encounter_id)
    resplit_invoice(invoice, snapshot)
    after = refresh_invoice(invoice.id)
    if any(getattr(after, c) != getattr(invoice, c) for c in ("hospital_amount", "insurer_amount", "copay_amount",
                                                            "patient_outside_amount")) or kind != "resplit":
        record_ledger(invoice.id, kind, reference, SYSTEM_ACTOR, before=invoice, after=after, note=note)
    return after


def _new_line(invoice: Invoice, charge: dict, coverage: dict | None) -> InvoiceLine:
    """A bill line for a charge, not written yet, its split still to make."""
    ordered_by, performed_by = charge.get("ordered_by") or {}, charge.get("performed_by") or {}
    now = utcnow()
    return InvoiceLine(created_at=now, updated_at=now,
        ordered_by_code=ordered_by.get("licence_number"), ordered_by_name=ordered_by.get("full_name"),
        performed_by_code=performed_by.get("licence_number"), performed_by_name=performed_by.get("full_name"),
        invoice=invoice.id, charge_key=charge["key"], source=charge["source"], source_id=charge["source_id"],
        item_kind=charge["item_kind"], code=charge["code"], name=charge["name"], unit=charge["unit"],
        charged_quantity=charge["quantity"], quantity=charge["quantity"],
        unit_price_amount=charge["unit_price_amount"],
        insurance_unit_price_amount=charge["insurance_unit_price_amount"],
        insurance_covered=charge["insurance_covered"], insurance_rate=charge["insurance_rate"],
        hospital_amount=0, insured_amount=0, benefit_level=0, insurer_amount=0, copay_amount=0,
        patient_outside_amount=0, other_funding_amount=0, state_budget_funding_amount=0,
        foreign_aid_funding_amount=0, domestic_aid_funding_amount=0, other_source_funding_amount=0, self_pay=False,
        reversed_quantity=0, cost_amount=charge["cost_amount"], occurred_at=charge["occurred_at"],
        details_json=json.dumps(charge["details"], default=str, sort_keys=True),
        coverage_json=json.dumps(coverage, default=str, sort_keys=True) if coverage else None,
    )


def receive_charges(events: list[dict]) -> list[tuple[InvoiceLine, bool]]:
    """Add charges to their visits' bills once each; a replay returns the stored line and changes nothing.

    The charges of one visit in a delivery become lines of its bill together, with one re-split and one ledger row
    for all of them. Visits are taken in id order, so concurrent deliveries lock bills in one order (no deadlock).
    Returns (line, created) per event, in order.
    """
    keys = [event["charge"]["key"] for event in events]
    try:
        known, added = _bill_new_charges(events, keys)
    except peewee.IntegrityError:  # a charge delivered twice at once: the other delivery stored it; again
        known, added = _bill_new_charges(events, keys)
    results, answered = [], set()
    for key in keys:
        line = added.get(key) or known.get(key)
        results.append((line, key in added and key not in answered))
        answered.add(key)
    return results


def _bill_new_charges(events: list[dict], keys: list[str]) -> tuple[dict, dict]:
    """Bill the charges not billed yet; return (lines known before, lines added).

    What a delivery's visits need is read together: their snapshots (the latest kept first), their bills (locked in
    id order), which bills have grants, which charges have reversals waiting. The visits whose new lines alone need
    a split (_split_only_new_lines: the usual case) are then written together, their lines, totals and ledger rows
    one statement each; any other visit has its whole bill split again.
    """
    known = store.lines_by_keys(keys)
    by_visit: dict[str, dict[str, dict]] = {}
    for event in events:
        if event["charge"]["key"] not in known:
            by_visit.setdefault(event["charge"]["encounter_id"], {}).setdefault(event["charge"]["key"], event)
    charges = {visit: list(by_key.values()) for visit, by_key in sorted(by_visit.items())}
    added: dict[str, InvoiceLine] = {}
    with db.atomic():
        snapshots = _keep_snapshots([visit_charges[-1]["encounter"] for visit_charges in charges.values()])
        invoices = open_invoices({visit: visit_charges[0]["charge"]["patient_id"]
                                  for visit, visit_charges in charges.items()})
        with_grants = store.bills_with_grants(invoice.id for invoice in invoices.values())
        waiting = store.keys_with_waiting_reversals(added_key for by_key in by_visit.values() for added_key in by_key)
        split_alone = []
        for visit, visit_charges in charges.items():
            (snapshot, kept), invoice = snapshots[visit], invoices[visit]
            lines = [_new_line(invoice, event["charge"], event["encounter"].get("coverage"))
                     for event in visit_charges]
            simple = (kept == "same" and invoice.id not in with_grants
                      and not waiting.intersection(line.charge_key for line in lines))
            visit_level = _split_only_new_lines(invoice, snapshot, lines) if simple else None
            if visit_level is None:
                _bill_whole_visit(invoice, snapshot, lines)
            else:
                split_alone.append((invoice, lines, visit_level))
            added.update((line.charge_key, line) for line in lines)
        _add_to_bills(split_alone)
    return known, added


def _charge_reference(lines: list[InvoiceLine]) -> tuple[str, str | None]:
    """The ledger row's reference (the charge keys) and note for a visit's new lines."""
    return ", ".join(line.charge_key for line in lines), f"{len(lines)} charge(s)" if len(lines) > 1 else None


def _add_to_bills(bills: list[tuple[Invoice, list[InvoiceLine], object]]) -> None:
    """Add new lines, split alone, to their locked bills at each visit's level: the lines, the bills' new totals
    and one ledger row per bill, each in one statement for all the bills."""
    if not bills:
        return
    store.add_lines([line for _invoice, lines, _level in bills for line in lines])
    afters = [with_lines_added(invoice, lines, visit_level) for invoice, lines, visit_level in bills]
    save_bill_totals(afters)
    rows = []
    for (invoice, lines, _level), after in zip(bills, afters, strict=True):
        reference, note = _charge_reference(lines)
        rows.append(ledger_row(invoice.id, "charge", reference, SYSTEM_ACTOR, before=invoice, after=after, note=note))
    record_ledgers(rows, [invoice for invoice, _lines, _level in bills])


def _bill_whole_visit(invoice: Invoice, snapshot: EncounterSnapshot, lines: list[InvoiceLine]) -> None:
    """Put a visit's new lines on its bill, apply the reversals that waited for them and split the whole bill."""
    store.add_lines(lines)
    for line in lines:
        _apply_waiting_reversals(line)
    reference, note = _charge_reference(lines)
    settle_invoice(invoice, "charge", reference, note=note, snapshot=snapshot)


def _split_only_new_lines(invoice: Invoice, snapshot: EncounterSnapshot, lines: list[InvoiceLine]):
    """Split the new lines alone when the bill's other lines keep theirs: the caller has checked that the bill has
    no other funding and no reversal waits for the new charges; the visit's insured total must stay on the same side
    of the 15 % threshold (the only way a new line changes the others' level). Return the visit's level then; None
    when the whole bill must be split again."""
    cards = [_line_card(line, snapshot.coverage) for line in lines]
    money = [_line_money(line, card is None) for line, card in zip(lines, cards, strict=True)]
    total = invoice.insured_amount + sum(insured for (_, insured), card in zip(money, cards, strict=True) if card)
    base = current_app.config["BASE_SALARY_AMOUNT"]
    if snapshot.in_network and low_cost_visit(invoice.insured_amount, base) != low_cost_visit(total, base):
        return None
    for line, card, (hospital, insured) in zip(lines, cards, money, strict=True):
        level = _level(card, snapshot, total)
        funded, _ = fund_lines([LineMoney(line.charge_key, hospital, insured, level)], [])
        for column, value in _split_values(funded[line.charge_key], level, card is None).items():
            setattr(line, column, value)
    visit_card = snapshot.coverage or next((card for card in reversed(cards) if card), None)
    return _level(visit_card, snapshot, total) if visit_card or invoice.benefit_level == 0 else invoice.benefit_level


def receive_charge(event: dict) -> tuple[InvoiceLine, bool]:
    """Add one charge to its visit's bill once (see receive_charges)."""
    return receive_charges([event])[0]


def _reduce_line(line: InvoiceLine, reversal: LineReversal) -> str:
    """Take the reversed quantity off the line with a guarded update; refuse more than is left."""
    updated = (InvoiceLine.update(quantity=InvoiceLine.quantity - reversal.quantity,
                                  reversed_quantity=InvoiceLine.reversed_quantity + reversal.quantity)
               .where((InvoiceLine.id == line.id) & (InvoiceLine.quantity >= reversal.quantity)).execute())
    state = "applied" if updated == 1 else "refused"
    LineReversal.update(state=state, line=line.id).where(LineReversal.id == reversal.id).execute()
    return state


def _apply_waiting_reversals(line: InvoiceLine) -> None:
    """Apply reversals that arrived before their charge."""
    waiting = LineReversal.select().where((LineReversal.charge_key == line.charge_key)
                                          & (LineReversal.state == "pending")).order_by(LineReversal.id)
    for reversal in waiting:
        _reduce_line(line, reversal)


def receive_reversal(event: dict) -> tuple[LineReversal, bool]:
    """Reduce a line by a charge.reversed event once; one for a charge not seen yet waits for it."""
    existing = LineReversal.get_or_none(LineReversal.key == event["key"])
    if existing is not None:
        return existing, False
    try:
        with db.atomic():
            reversal = LineReversal.create(
                key=event["key"], charge_key=event["charge_key"], quantity=event["quantity"], amount=event["amount"],
                reason=event["reason"], occurred_at=event["occurred_at"])
            line = InvoiceLine.get_or_none(InvoiceLine.charge_key == event["charge_key"])
            if line is not None:
                invoice = lock_invoice(line.invoice_id)
                line = InvoiceLine.get_by_id(line.id)  # as it is under the bill's lock
                if _reduce_line(line, reversal) == "applied":
                    after = settle_invoice(invoice, "reversal", event["key"], note=event["reason"])
                    if event.get("recall_id"):
                        settle_recalled_line(event, line, invoice, after)
    except peewee.IntegrityError:
        return LineReversal.get(LineReversal.key == event["key"]), False
    return LineReversal.get_by_id(reversal.id), True


def receive_encounter(encounter: dict) -> tuple[EncounterSnapshot, bool]:
    """Keep the latest snapshot of a visit and re-split its open bill when coverage or network changed."""
    with db.atomic():
        snapshot, kept = _keep_snapshot(encounter)
        invoice = Invoice.get_or_none(Invoice.encounter_id == encounter["id"])
        if invoice is not None and kept != "same":
            settle_invoice(lock_invoice(invoice.id), "resplit", f"encounter:{encounter['id']}", snapshot=snapshot)
    return EncounterSnapshot.get(EncounterSnapshot.encounter_id == encounter["id"]), kept == "created"
