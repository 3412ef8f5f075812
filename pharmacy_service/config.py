"""Pharmacy service settings read from the environment."""


def settings() -> dict:
    """Return the pharmacy service's own settings."""
    return {}
