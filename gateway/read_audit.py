"""Audit of reads of patient data: who read which patient's data and when, allowed or refused."""

from flask import g, request

from common import read_audit
from gateway import audit_spool
from gateway.audit import request_actor


def note_patient_read(patient_id) -> None:
    """Name the patient this request reads (or, for a search, the list of patients it shows), for its audit."""
    if isinstance(patient_id, list):
        g.audit_patient_ids = [str(one) for one in patient_id]
    else:
        g.audit_patient_id = None if patient_id is None else str(patient_id)


def audit_patient_read(response):
    """Write an audit line for each GET on patient data (writes are audited for every route by gateway.audit)."""
    if request.method == "GET":
        principal = g.get("principal")
        actor, role = (principal.subject, principal.role) if principal is not None else ("anonymous", "-")
        patient_id = g.get("audit_patient_id") or (request.view_args or {}).get("patient_id")
        # a search writes one line per patient it showed (one line naming nobody when it found none)
        for shown in g.get("audit_patient_ids") or [patient_id]:
            # after the answer, through the spool: the read was answered, its audit line must not undo that
            audit_spool.record_later(audit_spool.clean_line(actor, role, f"GET {request.path}",
                                                            response.status_code, g.get("request_id"),
                                                            patient_id=shown))
    return response


def audit_service_read(upstream_headers, status_code: int) -> None:
    """Write an audit line for a proxied read the service behind marked as patient data (common.read_audit): a
    bill, a lab result, a prescription or dispense, a claim batch's file, with its patient or how many."""
    subject = upstream_headers.get(read_audit.SUBJECT_HEADER)
    if subject is None or request.method != "GET":
        return
    actor, role = request_actor()  # the proxy verifies no token: read it as the audit of changes does
    patients = upstream_headers.get(read_audit.PATIENTS_HEADER)
    details = {"subject": subject, "patients": int(patients) if patients and patients.isdigit() else None}
    audit_spool.record_later(audit_spool.clean_line(
        actor, role, f"GET {request.path}", status_code, g.get("request_id"),
        patient_id=upstream_headers.get(read_audit.PATIENT_HEADER), details=details))
