"""Billing service settings read from the environment."""


def settings() -> dict:
    """Return the billing service's own settings."""
    return {}
