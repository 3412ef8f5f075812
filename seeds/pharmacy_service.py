"""pharmacy_service demo data: a hospital formulary of common drugs, each with two lots from Vietnamese suppliers."""

from datetime import timedelta

from common import clock
from pharmacy_service.models import Drug, DrugLot
from pharmacy_service.schemas import DrugSchema
from pharmacy_service.services import create_drug, create_prescription, receive_lot, set_lot_status
from seeds.demo_visits import PRESCRIBERS, visit_of

# code is the BHYT MA_THUOC; price_amount is per base unit in đồng; GTINs carry valid GS1 check digits.
DRUGS = {
    "amoxicillin": {
        "code": "40.158", "name": "Amoxicillin", "active_ingredient": "Amoxicillin (dưới dạng trihydrat)",
        "strength": "500 mg", "dosage_form": "Viên nang cứng", "route": "Uống", "atc_code": "J01CA04",
        "registration_number": "VD-25731-16", "base_unit": "capsule",
        "unit_name": "Viên", "gtin": "8936000110017",
        "price_amount": 1_050, "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 500},
    "paracetamol": {
        "code": "40.51", "name": "Paracetamol", "active_ingredient": "Paracetamol", "strength": "500 mg",
        "dosage_form": "Viên nén", "route": "Uống", "atc_code": "N02BE01", "registration_number": "VD-21347-14",
        "base_unit": "tablet",
        "unit_name": "Viên", "gtin": "8936000110024", "price_amount": 350, "insurance_scope": 1,
        "insurance_rate": 100, "reorder_level": 1_000},
    "metformin": {
        "code": "40.677", "name": "Metformin", "active_ingredient": "Metformin hydroclorid", "strength": "850 mg",
        "dosage_form": "Viên nén bao phim", "route": "Uống", "atc_code": "A10BA02",
        "registration_number": "VD-19876-13", "base_unit": "tablet",
        "unit_name": "Viên", "gtin": "8936000110031", "price_amount": 600,
        "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 600},
    "amlodipine": {
        "code": "40.509", "name": "Amlodipin", "active_ingredient": "Amlodipin (dưới dạng besilat)",
        "strength": "5 mg", "dosage_form": "Viên nén", "route": "Uống", "atc_code": "C08CA01",
        "registration_number": "VD-23512-15", "base_unit": "tablet",
        "unit_name": "Viên", "gtin": "8936000110048", "price_amount": 450,
        "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 600},
    "omeprazole": {
        "code": "40.738", "name": "Omeprazol", "active_ingredient": "Omeprazol (dạng vi hạt bao tan trong ruột)",
        "strength": "20 mg", "dosage_form": "Viên nang cứng", "route": "Uống", "atc_code": "A02BC01",
        "registration_number": "VD-28114-17", "base_unit": "capsule",
        "unit_name": "Viên", "gtin": "8936000110055",
        "price_amount": 800, "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 400},
    "ceftriaxone": {
        "code": "40.206", "name": "Ceftriaxon", "active_ingredient": "Ceftriaxon (dưới dạng natri)",
        "strength": "1 g", "dosage_form": "Bột pha tiêm", "route": "Tiêm tĩnh mạch", "atc_code": "J01DD04",
        "registration_number": "VD-30452-18", "base_unit": "vial",
        "unit_name": "Lọ", "gtin": "8936000110062", "price_amount": 16_800,
        "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 100},
    "sodium_chloride": {
        "code": "40.1053", "name": "Natri clorid", "active_ingredient": "Natri clorid", "strength": "0,9% 500 ml",
        "dosage_form": "Dung dịch tiêm truyền", "route": "Tiêm truyền tĩnh mạch", "atc_code": "B05XA03",
        "registration_number": "VD-22906-15", "base_unit": "bottle",
        "unit_name": "Chai", "gtin": "8936000110079",
        "price_amount": 10_500, "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 120},
    "losartan": {
        "code": "40.527", "name": "Losartan", "active_ingredient": "Losartan kali", "strength": "50 mg",
        "dosage_form": "Viên nén bao phim", "route": "Uống", "atc_code": "C09CA01",
        "registration_number": "VD-27341-17", "base_unit": "tablet",
        "unit_name": "Viên", "gtin": "8936000110086", "price_amount": 900,
        "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 500},
    "insulin_glargine": {
        "code": "40.697", "name": "Insulin glargine", "active_ingredient": "Insulin glargine",
        "strength": "100 IU/ml x 3 ml", "dosage_form": "Dung dịch tiêm (bút tiêm)", "route": "Tiêm dưới da",
        "atc_code": "A10AE04", "registration_number": "QLSP-1108-18", "base_unit": "pen",
        "unit_name": "Bút tiêm", "gtin": "8936000110093",
        "price_amount": 235_000, "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 30},
    "atorvastatin": {
        "code": "40.566", "name": "Atorvastatin", "active_ingredient": "Atorvastatin (dưới dạng calci)",
        "strength": "20 mg", "dosage_form": "Viên nén bao phim", "route": "Uống", "atc_code": "C10AA05",
        "registration_number": "VD-26019-16", "base_unit": "tablet",
        "unit_name": "Viên", "gtin": "8936000110109", "price_amount": 1_200,
        "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 400},
    "glucosamine": {
        "code": "TPCN.0412", "name": "Glucosamin", "active_ingredient": "Glucosamin sulfat", "strength": "500 mg",
        "dosage_form": "Viên nang cứng", "route": "Uống", "atc_code": "M01AX05",
        "registration_number": "VD-20417-14", "base_unit": "capsule",
        "unit_name": "Viên", "gtin": "8936000110116",
        "price_amount": 2_300, "insurance_scope": 2, "insurance_rate": 0, "reorder_level": 0},
}

SUPPLIERS = ("Công ty CP Dược Hậu Giang", "Công ty CP Dược phẩm Imexpharm", "Công ty CP Traphaco",
             "Công ty CP Pymepharco", "Công ty TNHH B. Braun Việt Nam", "Công ty CP Dược phẩm Trung ương 1 - Pharbaco")

# (lot suffix, months to expiry, quantity, unit cost as % of the selling price)
LOT_PLAN = (("A", 5, 6, 82), ("B", 14, 10, 85))


# the counter's queue: prescriptions on the gateway's demo visits (seeds/demo_visits.py), oldest first;
# (patient, department of the prescriber, [(drug, quantity in base units, instructions)])
PRESCRIPTIONS = (
    ("Nguyễn Văn An", "K01", [("amoxicillin", 21, "Uống 1 viên x 3 lần/ngày sau ăn, trong 7 ngày"),
                              ("paracetamol", 10, "Uống 1 viên khi sốt trên 38,5°C, cách nhau ít nhất 4 giờ")]),
    ("Lê Văn Cường", "K03", [("ceftriaxone", 14, "Tiêm tĩnh mạch chậm 1 lọ x 2 lần/ngày, trong 7 ngày"),
                             ("sodium_chloride", 7, "Truyền tĩnh mạch 500 ml/ngày, XXX giọt/phút")]),
    ("Trần Thị Bích", "K01", [("omeprazole", 28, "Uống 1 viên x 2 lần/ngày, trước ăn 30 phút")]),
    ("Hoàng Minh Đức", "K01", [("metformin", 60, "Uống 1 viên x 2 lần/ngày sau ăn sáng và tối"),
                               ("amlodipine", 30, "Uống 1 viên buổi sáng"),
                               ("losartan", 30, "Uống 1 viên buổi sáng, theo dõi huyết áp tại nhà")]),
)
# a lot held back at the demo counter, so the lots shown before a dispense have a quarantined one
QUARANTINED = ("losartan", "A", "Vỉ bị phồng, nghi ẩm: chờ kết quả kiểm nghiệm của Trung tâm Kiểm nghiệm")


def is_empty() -> bool:
    return not Drug.select().exists()


def load() -> None:
    today = clock.today()
    for index, drug in enumerate(DRUGS.values()):
        create_drug(DrugSchema().load(drug))
        for suffix, months, multiple, cost_percent in LOT_PLAN:
            receive_lot({
                "lot_number": f"{drug['atc_code'][:3]}{today.year % 100:02d}{index:02d}{suffix}",
                "expires_on": today + timedelta(days=30 * months + index),
                "quantity": max(drug["reorder_level"], 50) * multiple // 5,
                "cost_amount": drug["price_amount"] * cost_percent // 100,
                "supplier": SUPPLIERS[(index + len(suffix) + months) % len(SUPPLIERS)],
            }, drug["code"])
    drug_key, suffix, reason = QUARANTINED
    held = DrugLot.get(DrugLot.drug == Drug.get(Drug.code == DRUGS[drug_key]["code"]).id,
                       DrugLot.lot_number.endswith(suffix))
    set_lot_status(held.id, "quarantined", reason)
    for patient_name, department, lines in PRESCRIPTIONS:
        encounter_id, patient_id = visit_of(patient_name)
        prescriber_id, prescriber = PRESCRIBERS[department]
        create_prescription({"encounter_id": encounter_id, "patient_id": patient_id, "prescriber": prescriber,
                             "prescriber_id": prescriber_id,
                             "lines": [{"drug_code": DRUGS[key]["code"], "quantity": quantity,
                                        "instructions": instructions} for key, quantity, instructions in lines]})
