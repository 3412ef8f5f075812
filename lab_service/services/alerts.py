"""Lab alerts: evaluated right after each commit that moves a reagent, one open alert per condition."""

import json
import logging
from datetime import timedelta

import peewee
import requests
from flask import current_app

from common import clock
from common.auth import actor
from common.clients import session
from common.errors import Conflict, NotFound
from common.paging import page
from lab_service.models import LabAlert, LedgerEntry, Reagent, ReagentLot, RecipeLine, WorklistItem, db
from lab_service.schemas import AlertSchema
from lab_service.services import stock

log = logging.getLogger(__name__)
USE_KINDS = ("consumption", "void_reversal")
HELD = ("open", "acknowledged")  # states that hold the condition's open_key: it does not open again meanwhile
_ALERT_JSON = AlertSchema()


def used_recently(reagent: Reagent, days: int) -> int:
    """Return how much of the reagent tests and QC used over the last `days` days (voids given back)."""
    since = clock.now() - timedelta(days=days)
    total = (LedgerEntry.select(peewee.fn.COALESCE(peewee.fn.SUM(LedgerEntry.quantity), 0))
             .where((LedgerEntry.reagent == reagent) & LedgerEntry.kind.in_(USE_KINDS)
                    & (LedgerEntry.created_at >= since)).scalar())
    return -int(total or 0)


def per_test_quantity(reagent: Reagent) -> dict[int, int]:
    """Return, per test whose default recipe uses the reagent, how much one test takes (reaction + dead volume)."""
    rows = (RecipeLine.select(RecipeLine.lab_test, peewee.fn.SUM(RecipeLine.quantity).alias("quantity"))
            .where((RecipeLine.reagent == reagent) & RecipeLine.analyzer.is_null()
                   & RecipeLine.basis.in_(("test", "run")))
            .group_by(RecipeLine.lab_test))
    return {row.lab_test_id: int(row.quantity) for row in rows}


def worklist_need(reagent: Reagent) -> tuple[int, int]:
    """Return (tests waiting on the worklist that use the reagent, reagent they need)."""
    per_test = per_test_quantity(reagent)
    if not per_test:
        return 0, 0
    rows = (WorklistItem.select(WorklistItem.lab_test, peewee.fn.COUNT(WorklistItem.id).alias("waiting"))
            .where((WorklistItem.state == "open") & WorklistItem.lab_test.in_(list(per_test)))
            .group_by(WorklistItem.lab_test))
    waiting = need = 0
    for row in rows:
        waiting += row.waiting
        need += row.waiting * per_test[row.lab_test_id]
    return waiting, need


def _stock_conditions(reagent: Reagent, usable: int) -> dict[str, dict]:
    """Return the stock conditions that hold now: below reorder level, low cover, worklist short."""
    config = current_app.config
    conditions = {}
    if reagent.reorder_level and usable < reagent.reorder_level:
        conditions[f"below_reorder_level:{reagent.id}"] = {
            "kind": "below_reorder_level", "details": {"usable": usable, "reorder_level": reagent.reorder_level},
            "message": f"{reagent.name} ({reagent.code}): {usable} {reagent.base_unit} usable, below the reorder "
                       f"level of {reagent.reorder_level}"}
    window, cover_days = config["LAB_USAGE_WINDOW_DAYS"], config["LAB_COVER_DAYS_ALERT"]
    used = used_recently(reagent, window)
    if used > 0 and usable * window < cover_days * used:
        days = usable * window // used
        conditions[f"low_cover:{reagent.id}"] = {
            "kind": "low_cover", "details": {"usable": usable, "used_last_days": used, "window_days": window,
                                             "days_of_cover": days, "threshold_days": cover_days},
            "message": f"{reagent.name} ({reagent.code}) covers about {days} day(s) at recent use "
                       f"(fewer than {cover_days})"}
    waiting, need = worklist_need(reagent)
    if need > usable:
        conditions[f"worklist_short:{reagent.id}"] = {
            "kind": "worklist_short", "details": {"usable": usable, "needed": need, "tests_waiting": waiting},
            "message": f"{reagent.name} ({reagent.code}): {waiting} test(s) wait on the worklist needing {need} "
                       f"{reagent.base_unit}, only {usable} usable"}
    return conditions


def _lot_conditions(reagent: Reagent) -> dict[str, dict]:
    """Return the lot conditions that hold now: expiring soon or expired with stock left."""
    today = clock.today()
    horizon = today + timedelta(days=current_app.config["LAB_EXPIRY_WARNING_DAYS"])
    conditions = {}
    lots = ReagentLot.select().where((ReagentLot.reagent == reagent) & (ReagentLot.on_hand > 0)
                                     & (ReagentLot.expires_on <= horizon))
    for lot in lots:
        expired = lot.expires_on < today
        kind = "lot_expired" if expired else "lot_expiring"
        verb = "expired on" if expired else "expires on"
        conditions[f"{kind}:{lot.id}"] = {
            "kind": kind, "lot": lot,
            "details": {"lot_number": lot.lot_number, "expires_on": lot.expires_on.isoformat(),
                        "on_hand": lot.on_hand},
            "message": f"{reagent.name} ({reagent.code}) lot {lot.lot_number} {verb} {lot.expires_on.isoformat()} "
                       f"with {lot.on_hand} {reagent.base_unit} left"}
    return conditions


def evaluate_reagent_alerts(reagent_id: int) -> list[LabAlert]:
    """Open an alert for each condition that now holds, close the ones that no longer do; return the new ones."""
    reagent = Reagent.get_or_none(Reagent.id == reagent_id)
    if reagent is None:
        return []
    conditions = {**_stock_conditions(reagent, stock.usable_quantity(reagent)), **_lot_conditions(reagent)}
    current = {a.open_key: a for a in LabAlert.select().where((LabAlert.reagent == reagent)
                                                               & LabAlert.state.in_(HELD))}
    for key, alert in current.items():
        if key not in conditions:
            LabAlert.update(state="closed", closed_at=clock.now(), open_key=None).where(
                (LabAlert.id == alert.id) & LabAlert.state.in_(HELD)).execute()
    opened = []
    for key, condition in conditions.items():
        if key in current:
            continue
        try:
            with db.atomic():
                opened.append(LabAlert.create(
                    kind=condition["kind"], reagent=reagent, lot=condition.get("lot"), open_key=key,
                    message=condition["message"], details=json.dumps(condition["details"], ensure_ascii=False),
                    opened_at=clock.now()))
        except peewee.IntegrityError:
            continue  # another check opened it a moment ago
    for alert in opened:
        notify(alert)
    return opened


def notify(alert: LabAlert) -> None:
    """POST a new alert to LAB_ALERT_WEBHOOK_URL when one is configured; a failure is retried later."""
    url = current_app.config.get("LAB_ALERT_WEBHOOK_URL")
    if not url:
        return
    try:
        timeout = current_app.config["HTTP_TIMEOUT_MS"] / 1000
        response = session().post(url, json=_ALERT_JSON.dump(alert_view(alert)), timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as exc:
        log.warning("alert %s not delivered to the webhook: %s", alert.id, exc)
        return
    LabAlert.update(notified_at=clock.now()).where(LabAlert.id == alert.id).execute()


def check_every_reagent() -> int:
    """Re-evaluate every reagent (expiry moves with the calendar) and resend un-notified alerts; return count."""
    opened = 0
    for reagent_id in [r.id for r in Reagent.select(Reagent.id)]:
        opened += len(evaluate_reagent_alerts(reagent_id))
    if current_app.config.get("LAB_ALERT_WEBHOOK_URL"):
        for alert in LabAlert.select().where((LabAlert.state == "open") & LabAlert.notified_at.is_null()):
            notify(alert)
    return opened


def alert_view(alert: LabAlert) -> dict:
    """Describe an alert for the lab head."""
    reagent = Reagent.get_by_id(alert.reagent_id)
    return {"id": alert.id, "kind": alert.kind, "state": alert.state, "reagent_code": reagent.code,
            "lot_number": alert.lot.lot_number if alert.lot_id else None, "message": alert.message,
            "details": json.loads(alert.details), "opened_at": alert.opened_at, "closed_at": alert.closed_at,
            "acknowledged_at": alert.acknowledged_at, "acknowledged_by": alert.acknowledged_by}


def acknowledge_alert(alert_id: int) -> dict:
    """Mark an open alert as seen by the lab head; it stays (and does not open again) until its condition clears."""
    alert = LabAlert.get_or_none(LabAlert.id == alert_id)
    if alert is None:
        raise NotFound(f"No lab alert {alert_id}", code="ALERT_NOT_FOUND")
    with db.atomic():
        acknowledged = (LabAlert.update(state="acknowledged", acknowledged_at=clock.now(), acknowledged_by=actor())
                        .where((LabAlert.id == alert.id) & (LabAlert.state == "open")).execute())
    if not acknowledged:
        raise Conflict(f"Lab alert {alert_id} is {alert.state}, not open", code="ALERT_NOT_OPEN")
    return alert_view(LabAlert.get_by_id(alert.id))


def list_alerts(query: dict) -> list[dict]:
    """List alerts (open ones by default), newest first."""
    selection = LabAlert.select()
    if query.get("state", "open") != "all":
        selection = selection.where(LabAlert.state == query.get("state", "open"))
    if query.get("reagent_code"):
        selection = selection.where(LabAlert.reagent == stock.reagent_by_code(query["reagent_code"]))
    return [alert_view(alert) for alert in page(selection, LabAlert.id, query)]

