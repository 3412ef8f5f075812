"""Pharmacy service HTTP endpoints: parse with a schema, call one service verb, return one schema."""

from flask_smorest import Blueprint

blp = Blueprint("pharmacy", __name__, url_prefix="/api/v1/pharmacy", description="Drugs, lots, dispensing")
