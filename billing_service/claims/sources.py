"""Where a claimed line comes from: the lab test run (and the reagent lots it used) or the dispense line (and its drug
lots), as links finance can open to fix the thing a finding or a rejection is about."""

LAB_RUN = "lab:test-run:"
DISPENSE_LINE = "pharmacy:dispense-line:"


def source_of(charge_key: str, details: dict) -> dict | None:
    """Return the source of a charge, with the lots it drew on; None for a charge of an unknown kind."""
    if charge_key.startswith(LAB_RUN):
        run_id = charge_key.removeprefix(LAB_RUN).rsplit(":", 1)[-1]
        lots = [{"reagent_code": lot.get("reagent_code"), "lot_number": lot.get("lot_number"),
                 "quantity": lot.get("quantity"), "url": f"/api/v1/lab/reagents/{lot.get('reagent_code')}"}
                for lot in details.get("reagent_lots") or []]
        return {"kind": "lab_test_run", "id": run_id, "url": f"/api/v1/lab/test-runs/{run_id}",
                "reagent_lots": lots}
    if charge_key.startswith(DISPENSE_LINE):
        line_id = charge_key.removeprefix(DISPENSE_LINE).rsplit(":", 1)[-1]
        lots = [{"lot_id": lot.get("lot_id"), "lot_number": lot.get("lot_number"),
                 "expires_on": lot.get("expires_on"), "quantity": lot.get("quantity"),
                 "url": f"/api/v1/pharmacy/lots/{lot['lot_id']}" if lot.get("lot_id") else None}
                for lot in details.get("lots") or []]
        return {"kind": "dispense_line", "id": line_id, "url": f"/api/v1/pharmacy/dispense-lines/{line_id}",
                "drug_lots": lots}
    return None
