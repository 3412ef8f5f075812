"""Check-in verbs: record the check-in when an insured visit opens, deliver it to the BHYT portal, list it.

The record is written in the visit's own transaction (an outbox of its own: the portal is outside, with its own
address and credentials), then sent after the commit and retried by the sweeper with backoff until the portal
takes it (2xx) or refuses it for good (4xx other than 408/429: `rejected`, with the portal's reason). Without
BHYT_PORTAL_URL nothing is sent: records stay `pending`, listed, and go out once the portal is configured.
"""

from datetime import timedelta

import requests
from flask import current_app

from common import clock
from common.clients import session
from common.errors import Conflict, get_or_404
from common.models import utcnow
from common.paging import page
from common.queue import after_commit, service_job
from gateway.check_ins.record import check_in_document
from gateway.models import CheckIn, Encounter, db
from gateway.patients.services import coverage_on

NOT_CONFIGURED = "BHYT_PORTAL_URL is not set: kept here until the portal is configured"
BATCH = 50


def record_check_in(encounter: Encounter) -> CheckIn | None:
    """Write the visit's check-in in the current transaction when a card is valid on its opening day (once)."""
    card = coverage_on(encounter.patient_id, clock.local_day(encounter.opened_at))
    if card is None or CheckIn.select().where(CheckIn.encounter == encounter.id).exists():
        return None
    document = check_in_document(encounter, encounter.patient, card, current_app.config["BHYT_FACILITY_CODE"],
                                 clock.local_day(encounter.opened_at))
    check_in = CheckIn.create(encounter=encounter.id, payload=document.decode("utf-8"), created_at=utcnow())
    _send_after_commit()
    return check_in


def check_in_after_card(patient, coverage) -> None:
    """Give an open visit its check-in when a card shown after it opened is valid on its opening day."""
    if patient.open_encounter_id is not None:
        encounter = Encounter.get_by_id(patient.open_encounter_id)
        if coverage.valid_from <= clock.local_day(encounter.opened_at) <= coverage.valid_to:
            record_check_in(encounter)


def _send_after_commit() -> None:
    """Queue the delivery of what is due once the current transaction has committed."""
    after_commit(db, "gateway.check_ins.services.deliver_check_ins")


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(current_app.config["OUTBOX_MAX_BACKOFF_SECONDS"], 2 ** min(attempts, 16)))


def _claim(check_in_id: int, attempts: int) -> bool:
    """Count an attempt and push the next one back, unless another deliverer claimed the record first."""
    now = utcnow()
    return bool(CheckIn.update(attempts=CheckIn.attempts + 1, next_attempt_at=now + _backoff(attempts + 1))
                .where((CheckIn.id == check_in_id) & (CheckIn.state == "pending")
                       & (CheckIn.next_attempt_at <= now)).execute())


def _post(check_in: CheckIn) -> requests.Response:
    config = current_app.config
    auth = (config["BHYT_PORTAL_USERNAME"], config["BHYT_PORTAL_PASSWORD"]) if config["BHYT_PORTAL_USERNAME"] else None
    return session().post(config["BHYT_PORTAL_URL"], data=check_in.payload.encode("utf-8"), auth=auth,
                          headers={"Content-Type": "application/xml; charset=utf-8"},
                          timeout=config["HTTP_TIMEOUT_MS"] / 1000)


def _answer(response: requests.Response) -> dict:
    """Return the portal's JSON answer ({} when it sent none)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _deliver(check_in: CheckIn) -> str:
    """Send one claimed record; return the state it is left in."""
    try:
        response = _post(check_in)
    except requests.RequestException as exc:
        CheckIn.update(last_error=f"{type(exc).__name__}: {exc}"[:500]).where(CheckIn.id == check_in.id).execute()
        return "pending"
    if response.status_code < 300:
        reference = _answer(response).get("maGiaoDich")  # the portal's receipt number, when it gives one
        CheckIn.update(state="sent", sent_at=utcnow(), last_error=None,
                       portal_reference=str(reference)[:100] if reference else None).where(
            CheckIn.id == check_in.id).execute()
        return "sent"
    reason = _answer(response).get("thongBao") or response.text[:400]  # the portal's message, in Vietnamese
    error = f"HTTP {response.status_code}: {reason}"
    refused = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
    CheckIn.update(state="rejected" if refused else "pending", last_error=error).where(
        CheckIn.id == check_in.id).execute()
    return "rejected" if refused else "pending"


@service_job("gateway")
def deliver_check_ins() -> dict[str, int]:
    """Job (and periodic job of the sweeper): send every due check-in to the BHYT portal."""
    due = list(CheckIn.select().where((CheckIn.state == "pending") & (CheckIn.next_attempt_at <= utcnow()))
               .order_by(CheckIn.id).limit(BATCH))
    if not current_app.config["BHYT_PORTAL_URL"]:
        if due:
            CheckIn.update(last_error=NOT_CONFIGURED).where(
                (CheckIn.state == "pending") & CheckIn.last_error.is_null()).execute()
        return {"not_configured": len(due)} if due else {}
    counts: dict[str, int] = {}
    for check_in in due:
        if _claim(check_in.id, check_in.attempts):
            state = _deliver(check_in)
            counts[state] = counts.get(state, 0) + 1
    return counts


def get_check_in(check_in_id: int) -> CheckIn:
    """Return a check-in or raise 404."""
    return get_or_404(CheckIn, CheckIn.id == check_in_id,
                      detail=f"No check-in {check_in_id}", code="CHECK_IN_NOT_FOUND")


def retry_check_in(check_in_id: int) -> CheckIn:
    """Build a refused check-in again from the visit's current data and queue it for sending."""
    with db.atomic():
        check_in = get_check_in(check_in_id)
        if check_in.state != "rejected":
            raise Conflict(f"Check-in {check_in_id} is {check_in.state}, not rejected", code="CHECK_IN_NOT_REJECTED")
        encounter = Encounter.get_by_id(check_in.encounter_id)
        card = coverage_on(encounter.patient_id, clock.local_day(encounter.opened_at))
        if card is not None:
            document = check_in_document(encounter, encounter.patient, card,
                                         current_app.config["BHYT_FACILITY_CODE"], clock.local_day(encounter.opened_at))
            CheckIn.update(payload=document.decode("utf-8")).where(CheckIn.id == check_in.id).execute()
        CheckIn.update(state="pending", attempts=0, next_attempt_at=utcnow()).where(
            (CheckIn.id == check_in.id) & (CheckIn.state == "rejected")).execute()
        _send_after_commit()
    return get_check_in(check_in.id)


def list_check_ins(query: dict) -> list[CheckIn]:
    """List check-ins, newest first, optionally in one state."""
    selection = CheckIn.select()
    if query.get("state"):
        selection = selection.where(CheckIn.state == query["state"])
    return page(selection, CheckIn.id, query)


def check_in_of(encounter_id: int) -> CheckIn | None:
    """Return the check-in of a visit, if it has one."""
    return CheckIn.get_or_none(CheckIn.encounter == encounter_id)
