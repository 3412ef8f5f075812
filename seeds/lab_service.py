"""lab_service demo data: a district hospital's chemistry and haematology bench (reagents, lots, analyzers, tests)."""

from datetime import timedelta

from common import clock
from lab_service import services
from lab_service.models import Reagent
from seeds.demo_visits import visit_of

VIET_DUC = "Công ty TNHH Thiết bị Y tế Việt Đức, 45 Phố Vọng, Hai Bà Trưng, Hà Nội"
TRUNG_DUNG = "Công ty TNHH Kỹ thuật Sài Gòn Trung Dung, 172 Nguyễn Văn Thủ, Đa Kao, Quận 1, TP. Hồ Chí Minh"
HA_NOI_MED = "Công ty CP Dược phẩm và Thiết bị Y tế Hà Nội, 2 Láng Hạ, Ba Đình, Hà Nội"

ANALYZERS = (
    {"code": "AU480", "name": "Máy sinh hóa Beckman Coulter AU480", "manufacturer": "Beckman Coulter"},
    {"code": "COBAS-C311", "name": "Máy sinh hóa Roche Cobas c311", "manufacturer": "Roche Diagnostics"},
    {"code": "XN-1000", "name": "Máy huyết học Sysmex XN-1000", "manufacturer": "Sysmex"},
)

# code, name, manufacturer, base unit, reorder level, đồng per base unit, needs QC release, stable days once opened
REAGENTS = (
    ("GLU-R1", "Glucose GOD-PAP (OSR6121)", "Beckman Coulter", "uL", 20_000, 3, False, 30),
    ("UREA-R1", "Urea/BUN UV kinetic (OSR6134)", "Beckman Coulter", "uL", 15_000, 4, False, 30),
    ("CREA-R1", "Creatinine Jaffé (OSR6178)", "Beckman Coulter", "uL", 15_000, 5, False, 30),
    ("ALT-R1", "ALT/GPT IFCC (OSR6107)", "Beckman Coulter", "uL", 10_000, 6, False, 30),
    ("AST-R1", "AST/GOT IFCC (OSR6109)", "Beckman Coulter", "uL", 10_000, 6, False, 30),
    ("CRP-R1", "CRP Latex (OSR6199)", "Beckman Coulter", "uL", 10_000, 25, False, 60),
    ("HBA1C-KIT", "Tina-quant HbA1c Gen.3", "Roche Diagnostics", "test", 50, 38_000, True, 28),
    ("CBC-DCL", "Cellpack DCL 20 L", "Sysmex", "mL", 5_000, 150, False, 60),
    ("CBC-WDF", "Lysercell WDF", "Sysmex", "uL", 50_000, 12, False, 90),
)

# reagent code, lot number, quantity, days to expiry, supplier
LOTS = (
    ("GLU-R1", "GL2603A", 200_000, 120, VIET_DUC), ("GLU-R1", "GL2609B", 400_000, 300, VIET_DUC),
    ("UREA-R1", "UR2604", 180_000, 150, VIET_DUC), ("CREA-R1", "CR2605", 150_000, 180, VIET_DUC),
    ("ALT-R1", "AL2512", 60_000, 20, VIET_DUC), ("ALT-R1", "AL2606", 120_000, 200, VIET_DUC),
    ("AST-R1", "AS2606", 120_000, 200, VIET_DUC), ("CRP-R1", "CP2607", 90_000, 240, HA_NOI_MED),
    ("HBA1C-KIT", "HB2608", 300, 270, TRUNG_DUNG), ("CBC-DCL", "DCL2604-17", 40_000, 160, TRUNG_DUNG),
    ("CBC-WDF", "WDF2605-03", 210_000, 190, TRUNG_DUNG),
)


def _test(code, name, loinc, service_code, price, recipe):
    """Describe a BHYT-priced test (hospital price = insurance price, as at public hospitals)."""
    return {"code": code, "name": name, "loinc": loinc, "service_code": service_code, "price_amount": price,
            "insurance_price_amount": price, "insurance_covered": True, "recipe": recipe}


def _chemistry(reagent_code: str, per_test: int) -> list[dict]:
    """Reaction volume, dead volume per run, daily 2-level QC and calibration when a new lot is opened."""
    return [{"reagent_code": reagent_code, "quantity": per_test},
            {"reagent_code": reagent_code, "quantity": 20, "basis": "run", "analyzer_code": "AU480"},
            {"reagent_code": reagent_code, "quantity": per_test, "analyzer_code": "AU480"},
            {"reagent_code": reagent_code, "quantity": 2 * per_test, "basis": "day", "analyzer_code": "AU480"},
            {"reagent_code": reagent_code, "quantity": 3 * per_test, "basis": "lot_opened",
             "analyzer_code": "AU480"}]


TESTS = (
    _test("GLU", "Định lượng Glucose [Máu]", "2345-7", "23.0075.1494", 21_500, _chemistry("GLU-R1", 200)),
    _test("UREA", "Định lượng Urê máu [Máu]", "3094-0", "23.0166.1494", 21_500, _chemistry("UREA-R1", 180)),
    _test("CREA", "Định lượng Creatinin [Máu]", "2160-0", "23.0051.1494", 21_500, _chemistry("CREA-R1", 150)),
    _test("ALT", "Đo hoạt độ ALT (GPT) [Máu]", "1742-6", "23.0020.1493", 21_500, _chemistry("ALT-R1", 120)),
    _test("AST", "Đo hoạt độ AST (GOT) [Máu]", "1920-8", "23.0019.1493", 21_500, _chemistry("AST-R1", 120)),
    _test("CRP", "Định lượng CRP [Máu]", "1988-5", "23.0058.1506", 53_800, _chemistry("CRP-R1", 150)),
    _test("HBA1C", "Định lượng HbA1c [Máu]", "4548-4", "23.0083.1523", 101_000,
          [{"reagent_code": "HBA1C-KIT", "quantity": 1}]),
    _test("CBC", "Tổng phân tích tế bào máu ngoại vi (bằng máy đếm laser)", "58410-2", "22.0120.1370", 46_200,
          [{"reagent_code": "CBC-DCL", "quantity": 40}, {"reagent_code": "CBC-WDF", "quantity": 1000}]),
)

# tests ordered on the gateway's demo visits (seeds/demo_visits.py)
WORKLIST = (
    ("Nguyễn Văn An", "GLU"), ("Nguyễn Văn An", "HBA1C"), ("Lê Văn Cường", "CBC"), ("Trần Thị Bích", "CREA"),
    ("Hoàng Minh Đức", "ALT"), ("Phạm Thị Dung", "CRP"),
)


def is_empty() -> bool:
    """Tell whether the lab has no reagents yet."""
    return not Reagent.select().exists()


def load() -> None:
    """Load analyzers, reagents, tests, lots and a worklist, then open the alerts they warrant."""
    for analyzer in ANALYZERS:
        services.create_analyzer(dict(analyzer))
    for code, name, maker, unit, reorder, unit_cost, qc_release, stable_days in REAGENTS:
        services.create_reagent({"code": code, "name": name, "manufacturer": maker, "base_unit": unit,
                                 "reorder_level": reorder, "unit_cost_amount": unit_cost,
                                 "requires_qc_release": qc_release, "stability_days_after_opening": stable_days})
    for lab_test in TESTS:
        services.create_lab_test({**lab_test, "recipe": [dict(line) for line in lab_test["recipe"]]})
    today = clock.today()
    for reagent_code, lot_number, quantity, days, supplier in LOTS:
        services.receive_lot(reagent_code, {"lot_number": lot_number, "quantity": quantity, "supplier": supplier,
                                            "expires_on": today + timedelta(days=days)})
    for patient_name, test_code in WORKLIST:
        encounter_id, patient_id = visit_of(patient_name)
        services.order_test({"encounter_id": encounter_id, "patient_id": patient_id, "test_code": test_code})
    services.check_every_reagent()
