"""Reads of patient data, named by the service that answers them, for the gateway's audit log.

The gateway is the only public door; the services behind it know what a response holds. A view that answers
patient-identifying data (a bill, a lab result, a prescription, a dispense, a claim batch, its XML or FHIR file)
says so with `@reads_patient_data("invoice")` or `note_read(...)`; the answer then carries `X-Audit-Subject`,
`X-Audit-Patient` (one patient) and `X-Audit-Patients` (how many), which the gateway's proxy turns into an audit
line (who, role, what, which patient or how many, when) and does not pass on to the client.
"""

from functools import wraps

from flask import g, request

SUBJECT_HEADER = "X-Audit-Subject"
PATIENT_HEADER = "X-Audit-Patient"
PATIENTS_HEADER = "X-Audit-Patients"
HEADERS = (SUBJECT_HEADER, PATIENT_HEADER, PATIENTS_HEADER)


def note_read(subject: str, patient_id=None, patients: int | None = None) -> None:
    """Say what this request reads: a subject ('claim-batch:3'), one patient, or how many patients."""
    g.audit_read = {"subject": subject, "patient_id": patient_id, "patients": patients}


def _patient_of(item):
    if isinstance(item, dict):
        return item.get("patient_id")
    return getattr(item, "patient_id", None)


def reads_patient_data(kind: str):
    """Mark a view whose answer names patients: the subject is `kind` and the view's id (e.g. 'invoice:42'), the
    patient(s) are read from what it returns (`patient_id` of the object, or of each item of a list)."""

    def decorate(view):
        @wraps(view)
        def noted(*args, **kwargs):
            result = view(*args, **kwargs)
            ids = [value for name, value in (request.view_args or {}).items() if name.endswith("_id")]
            subject = f"{kind}:{ids[0]}" if ids else kind
            if isinstance(result, list):
                patients = sorted({str(p) for p in map(_patient_of, result) if p is not None})
                note_read(subject, patients[0] if len(patients) == 1 else None, len(patients))
            else:
                patient = _patient_of(result)
                note_read(subject, patient, None if patient is None else 1)
            return result

        return noted

    return decorate


def expose(response):
    """Carry the read's audit facts on the answer (every service's after_request)."""
    noted = g.pop("audit_read", None)
    if noted and response.status_code < 400:
        response.headers[SUBJECT_HEADER] = noted["subject"]
        if noted["patient_id"] is not None:
            response.headers[PATIENT_HEADER] = str(noted["patient_id"])
        if noted["patients"] is not None:
            response.headers[PATIENTS_HEADER] = str(noted["patients"])
    return response
