"""Catalogue and receiving: drugs, and lots received by hand or by scanning the pack's GS1 DataMatrix."""

import peewee

from common import clock
from common.errors import ApiError, Conflict, ValidationFailed
from common.gs1 import GS1Error, parse_gs1
from pharmacy_service.models import Drug, DrugLot, db
from pharmacy_service.services import alerts
from pharmacy_service.services.moves import ensure_room, get_drug, move_stock

# DON_VI_TINH as the national drug lists write it, for the base units a catalogue usually names in English.
NATIONAL_UNIT_NAMES = {"tablet": "Viên", "capsule": "Viên", "vial": "Lọ", "ampoule": "Ống", "bottle": "Chai",
                       "bag": "Túi", "pen": "Bút tiêm", "sachet": "Gói", "tube": "Tuýp", "box": "Hộp"}


def national_unit_name(fields: dict) -> str:
    """Return the drug's DON_VI_TINH: the one given, else the national name of its base unit, else refuse."""
    if fields.get("unit_name"):
        return fields["unit_name"]
    known = NATIONAL_UNIT_NAMES.get(fields["base_unit"].strip().lower())
    if known is None:
        raise ValidationFailed(f"Give the unit as the national drug list writes it for base unit "
                               f"{fields['base_unit']!r} (e.g. Viên, Lọ, Ống)", code="UNIT_NAME_REQUIRED",
                               errors={"unit_name": ["Required for this base unit."]})
    return known


def create_drug(fields: dict) -> Drug:
    """Add a drug to the catalogue; its BHYT code and GTIN must be new."""
    fields = {**fields, "unit_name": national_unit_name(fields)}
    try:
        with db.atomic():
            return Drug.create(**fields)
    except peewee.IntegrityError:
        raise Conflict(f"A drug with code {fields['code']} or GTIN {fields.get('gtin')} already exists",
                       code="DRUG_EXISTS") from None


def _scanned_fields(fields: dict, drug: Drug | None) -> tuple[dict, Drug]:
    """Fill lot number, expiry and serial from a scanned GS1 string and find the drug by its GTIN."""
    try:
        scanned = parse_gs1(fields["gs1"])
    except GS1Error as exc:
        raise ValidationFailed(f"The scanned code is not valid GS1: {exc}", code="GS1_INVALID",
                               errors={"gs1": [str(exc)]}) from None
    if not scanned["gtin"] or not scanned["lot_number"] or not scanned["expires_on"]:
        raise ValidationFailed("The scanned code must carry GTIN (01), expiry (17) and lot (10)",
                               code="GS1_INCOMPLETE", errors={"gs1": ["needs AI 01, 17 and 10"]})
    by_gtin = Drug.get_or_none(Drug.gtin == scanned["gtin"])
    if by_gtin is None:
        raise ValidationFailed(f"GTIN {scanned['gtin']} matches no drug in the catalogue", code="UNKNOWN_GTIN",
                               errors={"gs1": [f"unknown GTIN {scanned['gtin']}"]})
    if drug is not None and by_gtin.id != drug.id:
        raise ValidationFailed(f"GTIN {scanned['gtin']} belongs to {by_gtin.code}, not {drug.code}",
                               code="GTIN_MISMATCH", errors={"gs1": ["GTIN of another drug"]})
    merged = {**fields, "lot_number": scanned["lot_number"], "expires_on": scanned["expires_on"],
              "serial": scanned["serial"]}
    return merged, by_gtin


def receive_lot(fields: dict, drug_code: str | None = None) -> DrugLot:
    """Receive stock of a lot (new, or a further delivery of a known lot) and write the receipt entry."""
    drug = get_drug(drug_code) if drug_code else None
    if fields.get("gs1"):
        fields, drug = _scanned_fields(fields, drug)
    if drug is None:
        raise ValidationFailed("Give the drug code in the URL or scan its GS1 code", code="DRUG_REQUIRED")
    if fields["expires_on"] < clock.today():
        raise ApiError(f"Lot {fields['lot_number']} expired on {fields['expires_on']}; it cannot be received",
                       code="LOT_EXPIRED", status=422)
    with db.atomic():
        lot = _find_or_create_lot(drug, fields)
        ensure_room(lot, fields["quantity"], received=True)
        DrugLot.update(quantity_received=DrugLot.quantity_received + fields["quantity"]).where(
            DrugLot.id == lot.id).execute()
        serial = f"gs1-serial:{fields['serial']}" if fields.get("serial") else None
        move_stock(lot.id, drug.id, fields["quantity"], kind="receipt", reason=f"Received from {fields['supplier']}",
                   reference=serial)
    alerts.recheck_after_commit([drug.id])
    return DrugLot.get_by_id(lot.id)


def _find_or_create_lot(drug: Drug, fields: dict) -> DrugLot:
    """Return the drug's lot with this number (same expiry required) or create it empty."""
    lot = DrugLot.get_or_none((DrugLot.drug == drug.id) & (DrugLot.lot_number == fields["lot_number"]))
    if lot is None:
        try:
            with db.atomic():
                return DrugLot.create(drug=drug.id, lot_number=fields["lot_number"], expires_on=fields["expires_on"],
                                      supplier=fields["supplier"], unit_cost_amount=fields["cost_amount"])
        except peewee.IntegrityError:
            lot = DrugLot.get((DrugLot.drug == drug.id) & (DrugLot.lot_number == fields["lot_number"]))
    if lot.expires_on != fields["expires_on"]:
        raise Conflict(f"Lot {lot.lot_number} is on file with expiry {lot.expires_on}, not {fields['expires_on']}",
                       code="LOT_EXPIRY_MISMATCH")
    if lot.status == "recalled":
        raise Conflict(f"Lot {lot.lot_number} has been recalled; it cannot be received", code="LOT_RECALLED")
    return lot
