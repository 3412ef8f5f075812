"""Billing service HTTP endpoints: parse with a schema, call one service verb, return one schema."""

from flask_smorest import Blueprint

blp = Blueprint("billing", __name__, url_prefix="/api/v1/billing", description="Invoices, payments, claims")
BLUEPRINTS = (blp,)
