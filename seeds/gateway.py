"""Gateway demo data: one user per role, password `demo` (demo only; documented in the README)."""

from gateway.models import User
from gateway.services import create_user

DEMO_PASSWORD = "demo"
DEMO_USERS = (
    ("labtech", "lab_tech", "Nguyễn Thị Hồng"),
    ("labhead", "lab_head", "Trần Văn Minh"),
    ("pharmacist", "pharmacist", "Lê Thị Thu Hà"),
    ("cashier", "cashier", "Phạm Quốc Bảo"),
    ("finance", "finance", "Võ Thị Mai Anh"),
    ("admin", "admin", "Đặng Hữu Phước"),
)


def is_empty() -> bool:
    return not User.select().exists()


def load() -> None:
    for username, role, full_name in DEMO_USERS:
        create_user(username, DEMO_PASSWORD, role, full_name)
