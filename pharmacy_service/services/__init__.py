"""Pharmacy verbs; each owns its transaction. Split by area, re-exported here."""

from pharmacy_service.services.catalogue import create_drug, receive_lot
from pharmacy_service.services.dispensing import (
    create_prescription,
    dispense,
    dispense_view,
    get_dispense,
    get_prescription,
    plan_dispense,
)
from pharmacy_service.services.moves import get_drug, get_lot
from pharmacy_service.services.recalls import lot_recipients, recall_lot
from pharmacy_service.services.returns import return_dispensed
from pharmacy_service.services.sources import dispense_line_source
from pharmacy_service.services.stock import adjust_lot, count_lot, set_lot_status, stock_card, stock_report

__all__ = [
    "adjust_lot", "count_lot", "create_drug",
    "dispense_line_source", "create_prescription", "dispense", "dispense_view", "get_dispense",
    "get_drug", "get_lot", "get_prescription", "lot_recipients", "plan_dispense", "recall_lot", "receive_lot",
    "return_dispensed",
    "set_lot_status", "stock_card", "stock_report",
]
