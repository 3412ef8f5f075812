"""billing_service demo data."""


def is_empty() -> bool:
    return False


def load() -> None:
    return None
