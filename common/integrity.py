"""The checking side of the hash chains (common.chain), the same in every service: verify on demand (admin
endpoint, `python -m manage verify`), a periodic check that opens an alert per broken stream for admin, and a
daily digest of every stream head written to a file finance or an inspector can keep (or sign).

A service registers its chains once in create_app: `api.register_blueprint(integrity_blueprint(app, prefix,
chains, IntegrityAlert))`.
"""

import json
import logging
import time
from pathlib import Path

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from common import chain, clock
from common.auth import require_roles
from common.bounds import page_limit
from common.models import utcnow
from common.paging import PagedQuerySchema, page

log = logging.getLogger(__name__)


def chains() -> list[chain.Chain]:
    return current_app.extensions["chains"]


def _digest_dir() -> Path:
    return Path(current_app.config["INTEGRITY_DIGEST_DIR"])


def _service() -> str:
    return current_app.config["SERVICE_NAME"]


def digest_path(day) -> Path:
    return _digest_dir() / f"{_service()}-{day.isoformat()}.json"


def latest_digest() -> dict | None:
    """The newest digest kept for this service, or None."""
    folder = _digest_dir()
    found = sorted(folder.glob(f"{_service()}-*.json")) if folder.exists() else []
    for path in reversed(found):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.error("integrity digest %s cannot be read", path)
    return None


def verify() -> dict:
    """Check every chain of this service, and the rows the latest kept digest names."""
    report = chain.verify(chains(), latest_digest())
    report["service"] = _service()
    return report


def write_digest(day=None) -> Path:
    """Write the day's digest of every stream head (local day; today by default); return its path."""
    made_at = utcnow()
    day = day or clock.local_day(made_at)
    digest = chain.digest_of(_service(), day, chain.heads(chains()), made_at)
    path = digest_path(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_suffix(".part")
    draft.write_text(json.dumps(digest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    draft.replace(path)
    return path


def check_and_alert() -> dict:
    """Verify, open an alert for each broken stream not alerted yet, close those whose stream is whole again."""
    model = current_app.extensions["integrity_alert_model"]
    report = verify()
    broken = {}
    for entry in report["chains"]:
        for found in entry["breaks"]:
            broken[f"{found['chain']}:{found['stream']}"[:170]] = found
    with model._meta.database.atomic():
        for key, found in broken.items():
            opened = (model.insert(chain=found["chain"], stream=found["stream"][:100], row_id=str(found["row_id"]),
                                   differs=found["differs"], detail=found["detail"], open_key=key)
                      .on_conflict_ignore().as_rowcount().execute())
            if opened:
                log.error("ledger chain broken: %s stream %s row %s (%s)", found["chain"], found["stream"],
                          found["row_id"], found["differs"])
        (model.update(state="closed", closed_at=utcnow(), open_key=None)
         .where((model.state == "open") & model.open_key.not_in(list(broken) or [""])).execute())
    return report


def periodic() -> None:
    """The sweeper's job: check every INTEGRITY_CHECK_SECONDS, and write the day's digest once a day."""
    # the first check comes one interval after the sweeper starts, not while the system is starting up
    state = current_app.extensions.setdefault("integrity_state", {"checked": time.monotonic()})
    interval = current_app.config["INTEGRITY_CHECK_SECONDS"]
    if interval and time.monotonic() - state["checked"] >= interval:
        state["checked"] = time.monotonic()
        check_and_alert()
    # the digest is written on the first round of each new local day (not when the sweeper starts: a full walk of
    # every chain while the system starts up or is under a bench); `manage digest` writes one at any time
    today = clock.today()
    seen = state.setdefault("digest_day", today)
    if seen != today:
        if not digest_path(today).exists():
            write_digest(today)
        state["digest_day"] = today


class BreakSchema(Schema):
    chain = fields.String()
    stream = fields.String()
    row_id = fields.Raw(allow_none=True)
    differs = fields.String(metadata={"description": "content | link | head | unchained | digest"})
    detail = fields.String()
    expected = fields.String(allow_none=True)
    found = fields.String(allow_none=True)


class ChainReportSchema(Schema):
    chain = fields.String()
    streams = fields.Integer()
    rows = fields.Integer()
    pending = fields.Integer(metadata={"description": "rows not placed in the chain yet (audit lines waiting for "
                                                      "the spool drain)"})
    breaks = fields.List(fields.Nested(BreakSchema))


class IntegrityReportSchema(Schema):
    service = fields.String()
    clean = fields.Boolean()
    chains = fields.List(fields.Nested(ChainReportSchema))


class IntegrityAlertSchema(Schema):
    id = fields.Integer()
    chain = fields.String()
    stream = fields.String()
    row_id = fields.String(allow_none=True)
    differs = fields.String()
    detail = fields.String()
    state = fields.String()
    opened_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)


class IntegrityAlertQuerySchema(PagedQuerySchema):
    limit = page_limit(200)


def integrity_blueprint(app, url_prefix: str, service_chains: list[chain.Chain], alert_model) -> Blueprint:
    """Register the service's chains and the periodic check; return the admin endpoints' blueprint."""
    app.extensions["chains"] = service_chains
    app.extensions["integrity_alert_model"] = alert_model
    app.extensions.setdefault("periodic_jobs", []).append(periodic)
    blp = Blueprint(f"integrity_{url_prefix.strip('/').replace('/', '_')}", __name__, url_prefix=url_prefix,
                    description="Tamper evidence: the hash chains of the ledgers")

    @blp.route("/integrity")
    @require_roles("admin", allow_service=True)
    @blp.response(200, IntegrityReportSchema)
    def verify_chains():
        """Check every ledger chain now: per stream, the first row whose content or link does not match."""
        return verify()

    @blp.route("/integrity/alerts")
    @require_roles("admin", allow_service=True)
    @blp.arguments(IntegrityAlertQuerySchema(), location="query")
    @blp.response(200, IntegrityAlertSchema(many=True))
    def list_integrity_alerts(query):
        """The breaks the periodic check found, open ones first ("open" sorts after "closed"), newest first; paged."""
        return page(alert_model.select(), alert_model.state, query, then=alert_model.id)

    return blp
