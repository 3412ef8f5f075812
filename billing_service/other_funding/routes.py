"""Other funding endpoints: record it on a bill (a line or the visit), list it, withdraw it."""

from flask_smorest import Blueprint

from billing_service.other_funding import services
from billing_service.other_funding.schemas import OtherFundingCreateSchema, OtherFundingSchema, WithdrawalSchema
from common.auth import current_principal, require_roles
from common.idempotency import idempotent

blp = Blueprint("billing_other_funding", __name__, url_prefix="/api/v1/billing",
                description="Other funding (T_NGUONKHAC) on bills")
WRITERS = ("cashier", "finance")


@blp.route("/invoices/<int:invoice_id>/other-funding", methods=["POST"])
@require_roles(*WRITERS)
@idempotent
@blp.arguments(OtherFundingCreateSchema())
@blp.response(201, OtherFundingSchema)
def add_other_funding(fields, invoice_id):
    """Record funding by the state budget, an aid donor, the hospital or another source on a line or the visit."""
    return services.add_other_funding(invoice_id, fields, current_principal().subject)


@blp.route("/invoices/<int:invoice_id>/other-funding")
@require_roles(*WRITERS)
@blp.response(200, OtherFundingSchema(many=True))
def list_other_funding(invoice_id):
    """List a bill's other funding, with what each grant could be applied for."""
    return services.list_other_funding(invoice_id)


@blp.route("/other-funding/<int:funding_id>/withdraw", methods=["POST"])
@require_roles(*WRITERS)
@idempotent
@blp.arguments(WithdrawalSchema())
@blp.response(200, OtherFundingSchema)
def withdraw_other_funding(fields, funding_id):
    """Withdraw funding recorded by mistake; the bill is split again without it."""
    return services.withdraw_other_funding(funding_id, fields["reason"], current_principal().subject)
