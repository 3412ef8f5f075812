"""The charge ledger: charges from lab and pharmacy stored once each, attached to their visits, handed to billing."""
