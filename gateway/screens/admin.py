"""Administration (admin): user accounts, the audit log, and the ledgers' integrity.

URL -> view -> template: /admin/ home and /admin/users -> admin/users.html (the list, filters, a new account);
/admin/users (POST) creates one; /admin/users/<id>/role, /active, /password-reset (POST) change one; each answers
admin/users.html with what was done (a temporary password is shown there once, never put in a URL).
/admin/audit -> admin/audit.html (filters by user, action or path, patient, status and days; older pages by cursor).
/admin/integrity?service=<area> -> admin/integrity.html (each service's integrity alerts, open ones first, older
pages by cursor); /admin/integrity/check (POST) checks every chain now and shows the report on the same page.

Everything goes through the admin API (/api/v1/users, /api/v1/audit, /api/v1/admin/integrity,
/api/v1/<area>/integrity/alerts), which audits each change.
"""

import re
from datetime import date, datetime

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from common.auth import ROLES
from common.clock import day_span
from gateway.screens.api import Refusal, items
from gateway.screens.pages import ROLE_NAMES, api, area_blueprint, render
from gateway.screens.problems import explain

blp = area_blueprint("admin")

# The services whose ledgers are chained, by the area of their API (/api/v1/<area>/integrity/alerts).
INTEGRITY_AREAS = {"gateway": ("gateway", _l("Gateway: charges and the audit log")),
                   "lab": ("lab_service", _l("Laboratory")), "pharmacy": ("pharmacy_service", _l("Pharmacy")),
                   "billing": ("billing_service", _l("Billing"))}
CHAINS = {"lab.reagent_lot_ledger": _l("Reagent stock ledger (a chain per lot)"),
          "pharmacy.drug_lot_stock_card": _l("Drug stock card (a chain per lot)"),
          "billing.invoice_ledger": _l("Bill ledger (a chain per bill)"),
          "billing.invoice_payments": _l("Payments (a chain per bill)"),
          "gateway.charges": _l("Charges received (a chain per source: lab, pharmacy)"),
          "gateway.audit": _l("Audit log (one chain)")}
DIFFERS = {  # common.chain: what does not match at the first bad row of a stream
    "content": _l("The row's content is not what its hash was made of: changed, or written outside the system."),
    "link": _l("The row does not follow the row before it: a row was deleted, inserted or moved."),
    "head": _l("The last row is not the head the stream records: rows were deleted at the end, or added."),
    "unchained": _l("The row has no hash: written outside the system."),
    "digest": _l("A row the kept daily digest names has changed: the chain was rewritten."),
}
ALERT_STATES = {"open": _l("Still open"), "closed": _l("Closed (the chain verifies again)")}
ALERTS_PAGE = 50
USER_FILTERS = ("q", "role", "active")
AUDIT_FILTERS = ("actor", "action", "patient_id", "status", "from", "to")
PAGE = 50


@blp.route("/")
def home():
    """List the accounts (filtered, paged by username) with the form for a new one."""
    return users_page()


@blp.route("/users")
def users():
    """The same list at its own address (where the account forms come back to)."""
    return users_page()


@blp.route("/users", methods=["POST"])
def create_user():
    """Create an account with a temporary password (typed, or made by the system) and show it once."""
    form = request.form
    body = {"username": form.get("username", "").strip().lower(), "full_name": form.get("full_name", "").strip(),
            "role": form.get("role", "")}
    if form.get("temporary_password"):
        body["temporary_password"] = form["temporary_password"]
    try:
        made = api().post("/api/v1/users", body).body
    except Refusal as refusal:
        if refusal.status >= 500:
            raise
        return users_page(422 if refusal.status == 422 else refusal.status, error=explain(refusal), draft=body)
    return users_page(201, issued=made, done=_("Account %(username)s created.", username=made["user"]["username"]))


@blp.route("/users/<int:user_id>/role", methods=["POST"])
def change_role(user_id):
    """Give an account another role (its next sign-in carries it)."""
    return change(user_id, {"role": request.form.get("role", "")},
                  lambda user: _("%(username)s is now %(role)s.", username=user["username"],
                                 role=role_title(user["role"])))


@blp.route("/users/<int:user_id>/active", methods=["POST"])
def change_active(user_id):
    """Disable an account (it can no longer sign in) or enable it again."""
    active = request.form.get("active") == "true"
    return change(user_id, {"active": active},
                  lambda user: (_("%(username)s can sign in again.", username=user["username"]) if active
                                else _("%(username)s is disabled and can no longer sign in.",
                                       username=user["username"])))


@blp.route("/users/<int:user_id>/password-reset", methods=["POST"])
def reset_password(user_id):
    """Give an account a temporary password, shown once; the user must change it at the next sign-in."""
    try:
        issued = api().post(f"/api/v1/users/{user_id}/password-reset", {}).body
    except Refusal as refusal:
        if refusal.status >= 500:
            raise
        return users_page(refusal.status, error=explain(refusal))
    return users_page(issued=issued, done=_("Password of %(username)s reset.", username=issued["user"]["username"]))


def change(user_id: int, body: dict, said):
    """PATCH an account and show the list with what was done (or why not)."""
    try:
        user = api().patch(f"/api/v1/users/{user_id}", body).body
    except Refusal as refusal:
        if refusal.status >= 500:
            raise
        return users_page(refusal.status, error=explain(refusal))
    return users_page(done=said(user))


def users_page(status: int = 200, **context):
    """The accounts page: one page of the list under the filters of the address (they survive a form post)."""
    filters = {name: request.args.get(name, "").strip() for name in USER_FILTERS}
    query = {"q": filters["q"][:64] or None, "role": filters["role"] if filters["role"] in ROLES else None,
             "active": filters["active"] if filters["active"] in ("true", "false") else None,
             "cursor": request.args.get("cursor") or None, "limit": PAGE}
    users, next_cursor = one_page("/api/v1/users", query)
    return render("admin/users.html", status, users=users, next_cursor=next_cursor, filters=filters, roles=ROLES,
                  role_title=role_title, **context)


def role_title(role: str) -> str:
    """A role's name in the user's language."""
    return str(ROLE_NAMES.get(role, role))


@blp.route("/audit")
def audit():
    """The audit log, newest first, under the filters; a day range is read as hospital days (dd/mm/yyyy)."""
    filters = {name: request.args.get(name, "").strip() for name in AUDIT_FILTERS}
    problems, since, until = [], None, None
    if filters["from"]:
        start = parse_day(filters["from"])
        since = start and day_span(start, start)[0].isoformat()
        if start is None:
            problems.append(_("“From” is not a date: write it as dd/mm/yyyy."))
    if filters["to"]:
        end = parse_day(filters["to"])
        until = end and day_span(end, end)[1].isoformat()
        if end is None:
            problems.append(_("“To” is not a date: write it as dd/mm/yyyy."))
    status = filters["status"].lower()
    if status and not re.fullmatch(r"[1-5](\d\d|xx)", status):
        problems.append(_("Status is a code such as 401, or a class such as 4xx."))
    if problems:
        return render("admin/audit.html", 422, lines=[], filters=filters, problems=problems, next_cursor=None)
    query = {"actor": filters["actor"][:64], "action": filters["action"][:300],
             "patient_id": filters["patient_id"][:64], "status": status, "since": since, "until": until,
             "cursor": request.args.get("cursor"), "limit": PAGE}
    try:
        lines, next_cursor = one_page("/api/v1/audit", query)
    except Refusal as refusal:
        if refusal.status >= 500 or refusal.status == 403:
            raise
        return render("admin/audit.html", 422, lines=[], filters=filters, problems=[explain(refusal)],
                      next_cursor=None)
    return render("admin/audit.html", lines=lines, filters=filters, problems=[], next_cursor=next_cursor)


def one_page(path: str, query: dict) -> tuple[list, str | None]:
    """One page of a list under the filters that are filled in: its rows and the next page's cursor."""
    answer = api().page(path, **{name: value for name, value in query.items() if value not in (None, "")})
    return items(answer.body), answer.next_cursor


def parse_day(text: str) -> date | None:
    """Read a day written dd/mm/yyyy (or yyyy-mm-dd, as a date field sends it); None if it is not one."""
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            found = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return found if 1900 <= found.year <= 2100 else None
    return None


@blp.route("/integrity")
def integrity():
    """Each service's integrity alerts (the periodic check opens one per broken chain), open ones first."""
    return integrity_page()


@blp.route("/integrity/check", methods=["POST"])
def check_integrity():
    """Check every chain of every service now (a full walk: it takes a while on a large ledger) and show it."""
    return integrity_page(report=api().get("/api/v1/admin/integrity"))


def integrity_page(status: int = 200, report: dict | None = None):
    """The integrity page: a tab per service with its open alerts counted (open ones come first, so the first page
    counts them; a first page of open ones only shows as "50+"), the chosen one's alerts a page at a time, and the
    report of a check when one was just run."""
    chosen = request.args.get("service", "")
    chosen = chosen if chosen in INTEGRITY_AREAS else next(iter(INTEGRITY_AREAS))
    cursor = request.args.get("cursor") or None
    tabs, alerts, next_cursor, unavailable = [], [], None, False
    for area, (_service, title) in INTEGRITY_AREAS.items():
        path = f"/api/v1/{area}/integrity/alerts"
        try:
            first, first_next = one_page(path, {"limit": ALERTS_PAGE})
            if area == chosen:
                alerts, next_cursor = one_page(path, {"limit": ALERTS_PAGE, "cursor": cursor}) if cursor else (
                    first, first_next)
        except Refusal as refusal:
            if refusal.status < 500:
                raise
            tabs.append({"area": area, "title": title, "open": None})  # the service does not answer now
            unavailable = unavailable or area == chosen
            continue
        opened = sum(alert["state"] == "open" for alert in first)
        tabs.append({"area": area, "title": title, "open": opened, "more": opened == len(first) and first_next})
    return render("admin/integrity.html", status, tabs=tabs, chosen=chosen, alerts=alerts, next_cursor=next_cursor,
                  unavailable=unavailable, report=report, chains=CHAINS, differs=DIFFERS, states=ALERT_STATES,
                  services={service: title for service, title in INTEGRITY_AREAS.values()})
