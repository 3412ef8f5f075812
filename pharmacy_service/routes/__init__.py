"""Pharmacy HTTP endpoints, one blueprint per area: parse with a schema, call one service verb, return one schema."""

from pharmacy_service.routes import dispensing, inventory

BLUEPRINTS = (inventory.blp, dispensing.blp)
