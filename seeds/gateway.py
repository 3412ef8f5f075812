"""Gateway demo data: one user per role (password `demo`, demo only), patients with BHYT cards, their visits."""

from datetime import date

from gateway.encounters.services import close_encounter, open_encounter
from gateway.models import User
from gateway.patients.services import add_coverage, register_patient
from gateway.practitioners.services import register_practitioner
from gateway.services import create_user
from seeds.demo_visits import CLOSED_VISITS, OPEN_VISITS

DEMO_PASSWORD = "demo"
DEMO_USERS = (
    ("labtech", "lab_tech", "Nguyễn Thị Hồng"),
    ("labhead", "lab_head", "Trần Văn Minh"),
    ("pharmacist", "pharmacist", "Lê Thị Thu Hà"),
    ("cashier", "cashier", "Phạm Quốc Bảo"),
    ("finance", "finance", "Võ Thị Mai Anh"),
    ("admin", "admin", "Đặng Hữu Phước"),
)
# (name, practising certificate (CCHN: serial/issuing health department-CCHN), profession, department: MA_KHOA first)
DEMO_PRACTITIONERS = (
    ("BS.CKI Nguyễn Thị Thanh Hương", "002341/HNO-CCHN", "doctor", "K01 Khoa Khám bệnh"),
    ("BS. Trần Quốc Tuấn", "003518/HNO-CCHN", "doctor", "K03 Khoa Nội tổng hợp"),
    ("ThS.BS Lê Minh Khoa", "000875/BYT-CCHN", "doctor", "K26 Khoa Xét nghiệm"),
    ("KTV. Phạm Văn Dũng", "004512/HNO-CCHN", "technician", "K26 Khoa Xét nghiệm"),
    ("KTV. Đỗ Thị Thu Trang", "005107/HNO-CCHN", "technician", "K26 Khoa Xét nghiệm"),
    ("DS.CKI Hoàng Thị Lan", "001967/HNO-CCHN", "pharmacist", "K30 Khoa Dược"),
    ("ĐD. Vũ Thị Ngọc Ánh", "006230/HNO-CCHN", "nurse", "K03 Khoa Nội tổng hợp"),
)
# (patient, their BHYT card or None for self-pay, their visit or None); the ids come out as seeds/demo_visits.py
# says, which the other services' seeds use
DEMO_PATIENTS = (
    ({"full_name": "Nguyễn Văn An", "birth_date": date(1988, 3, 14), "sex": "male", "cccd": "001088012345",
      "phone": "0912345678", "address": "12 Lý Thường Kiệt, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội"},
     {"card_number": "DN4010123456789", "registered_facility": "01013", "benefit_level": 80,
      "valid_from": date(2026, 1, 1), "valid_to": date(2027, 12, 31)},
     {"kind": "outpatient", "department": "K01"}),
    ({"full_name": "Lê Văn Cường", "birth_date": date(1956, 7, 21), "sex": "male", "cccd": "038056007788",
      "phone": "0983456120", "address": "27 Trần Phú, Phường Điện Biên, TP. Thanh Hóa, Thanh Hóa"},
     {"card_number": "HT3380123498765", "registered_facility": "01013", "benefit_level": 95,
      "valid_from": date(2026, 1, 1), "valid_to": date(2027, 12, 31)},
     {"kind": "inpatient", "department": "K03"}),
    ({"full_name": "Trần Thị Bích", "birth_date": date(1995, 11, 2), "sex": "female", "cccd": "079195004321",
      "phone": "0908123456", "address": "45 Nguyễn Thị Minh Khai, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh"},
     {"card_number": "GD4791234567890", "registered_facility": "79024", "benefit_level": 80,
      "valid_from": date(2026, 1, 1), "valid_to": date(2027, 12, 31)},
     {"kind": "outpatient", "department": "K01", "in_network": False, "network_rate": 100}),
    ({"full_name": "Phạm Thị Dung", "birth_date": date(2021, 5, 9), "sex": "female", "cccd": "001321004567",
      "phone": "0936778899", "address": "8 Ngõ 45 Hào Nam, Phường Ô Chợ Dừa, Quận Đống Đa, Hà Nội"},
     {"card_number": "TE1010987654321", "registered_facility": "01013", "benefit_level": 100,
      "valid_from": date(2021, 5, 9), "valid_to": date(2027, 9, 30)},
     {"kind": "outpatient", "department": "K02"}),
    ({"full_name": "Hoàng Minh Đức", "birth_date": date(1990, 1, 30), "sex": "male", "cccd": "036090001122",
      "phone": "0977001122", "address": "102 Hàng Tiện, Phường Quang Trung, TP. Nam Định, Nam Định"},
     None,
     {"kind": "outpatient", "department": "K01"}),
)


def is_empty() -> bool:
    return not User.select().exists()


# seen this morning with acute upper respiratory infection (ICD-10 J06.9) and sent home
CLOSING = {"diagnosis_main": "J06.9", "diagnosis_other": None}


def load() -> None:
    for username, role, full_name in DEMO_USERS:
        create_user(username, DEMO_PASSWORD, role, full_name)
    doctors = {}
    for full_name, licence_number, profession, department in DEMO_PRACTITIONERS:
        practitioner = register_practitioner({"full_name": full_name, "licence_number": licence_number,
                                              "profession": profession, "department": department})
        if profession == "doctor":
            doctors.setdefault(department[:3], practitioner.id)
    for patient_fields, card, visit in DEMO_PATIENTS:
        patient = register_patient(patient_fields)
        if card is not None:
            add_coverage(patient.id, card)
        if visit is None:
            continue
        encounter = open_encounter({"patient_id": patient.id, "practitioner_id": doctors.get(visit["department"]),
                                    **visit})
        name = patient_fields["full_name"]
        if name in CLOSED_VISITS:
            close_encounter(encounter.id, CLOSING)
        expected = {**OPEN_VISITS, **CLOSED_VISITS}[name]
        if (str(patient.id), str(encounter.id)) != expected:
            raise RuntimeError(f"demo ids drifted: {name} got patient {patient.id}, visit {encounter.id}, "
                               f"seeds/demo_visits.py says {expected} (seed an empty database)")
