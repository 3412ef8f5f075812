"""The demo visits other services' seeds refer to, by the ids the gateway gives them on an empty database.

The gateway's seed opens them in this order and stops if an id came out otherwise, so the lab's worklist (and any
other seed naming a visit) points at visits that exist, of the right patient.
"""

# patient's full name: (patient id, visit id), as strings, the way the services carry them
OPEN_VISITS = {
    "Nguyễn Văn An": ("1", "1"),
    "Lê Văn Cường": ("2", "2"),
    "Trần Thị Bích": ("3", "3"),
    "Hoàng Minh Đức": ("5", "5"),
}
# a visit that was closed this morning (ids as above): the bench must refuse to log a test on it
CLOSED_VISITS = {
    "Phạm Thị Dung": ("4", "4"),
}


def visit_of(full_name: str) -> tuple[str, str]:
    """Return (visit id, patient id) of a demo patient's visit."""
    patient_id, visit_id = {**OPEN_VISITS, **CLOSED_VISITS}[full_name]
    return visit_id, patient_id

# the doctors who prescribe on the demo visits, by department: (the gateway's practitioner id, name). The gateway's
# seed registers its practitioners first, in the order of seeds/gateway.py DEMO_PRACTITIONERS, so these ids hold
PRESCRIBERS = {"K01": ("1", "BS.CKI Nguyễn Thị Thanh Hương"), "K03": ("2", "BS. Trần Quốc Tuấn")}
