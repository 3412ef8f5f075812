"""Patients: identity by CCCD, BHYT cards, the patient record."""
