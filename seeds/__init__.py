"""Demo and reference data, loaded per service by `python -m manage seed` when that service's database is empty."""

from importlib import import_module

SEEDED_SERVICES = ("gateway", "lab_service", "pharmacy_service", "billing_service")


def seed_service(service: str) -> bool:
    """Load the demo data of `service` inside its app context; return False when it already had data."""
    module = import_module(f"seeds.{service}")
    if not module.is_empty():
        return False
    module.load()
    return True
