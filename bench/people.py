"""Demo people of the right shape for benchmarks: Vietnamese names and CCCD numbers."""

import random

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ")
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Đức", "Quốc")
GIVEN = ("An", "Bình", "Cường", "Dung", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Lan", "Long", "Mai", "Nam", "Phúc",
         "Quang", "Sơn", "Thảo", "Trang", "Tuấn", "Yến")
PROVINCES = ("001", "031", "036", "038", "048", "079", "092")  # Hà Nội, Hải Phòng, Nam Định, Thanh Hóa, Đà Nẵng...


def random_vietnamese_name() -> str:
    return f"{random.choice(FAMILY)} {random.choice(MIDDLE)} {random.choice(GIVEN)}"


def random_cccd() -> str:
    """A CCCD number: province code, century/sex digit (0 man, 1 woman, born 1900s), birth year, six digits."""
    year = random.randrange(40, 100)
    return f"{random.choice(PROVINCES)}{random.choice('01')}{year:02d}{random.randrange(10**6):06d}"
