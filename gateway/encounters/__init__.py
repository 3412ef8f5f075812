"""Visits (encounters): opening and closing, charges attached to them and handed to billing, recall warnings."""
