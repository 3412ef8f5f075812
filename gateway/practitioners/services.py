"""Practitioner verbs: register, change and look up practitioners; their snapshots for billing."""

import peewee

from common.errors import ApiError, Conflict, get_or_404
from common.paging import page
from gateway.models import Practitioner, db


def register_practitioner(fields: dict) -> Practitioner:
    """Add a practitioner; a practising-certificate number belongs to one person."""
    try:
        with db.atomic():
            return Practitioner.create(**fields)
    except peewee.IntegrityError:
        raise Conflict(f"Certificate {fields['licence_number']} is already registered",
                       code="PRACTITIONER_EXISTS") from None


def get_practitioner(practitioner_id: int) -> Practitioner:
    """Return a practitioner or raise 404."""
    return get_or_404(Practitioner, Practitioner.id == practitioner_id,
                      detail=f"No practitioner {practitioner_id}", code="PRACTITIONER_NOT_FOUND")


def update_practitioner(practitioner_id: int, changes: dict) -> Practitioner:
    """Move a practitioner to another department, or take them off (or back on) the active list."""
    practitioner = get_practitioner(practitioner_id)
    if changes:
        with db.atomic():
            Practitioner.update(**changes).where(Practitioner.id == practitioner.id).execute()
    return get_practitioner(practitioner.id)


def active_practitioner(practitioner_id: int | None) -> Practitioner | None:
    """Return the active practitioner a request names (None when it names none); 422 for an unknown one."""
    if practitioner_id is None:
        return None
    practitioner = Practitioner.get_or_none((Practitioner.id == practitioner_id) & (Practitioner.active == True))  # noqa: E712
    if practitioner is None:
        raise ApiError(f"No active practitioner {practitioner_id}", code="PRACTITIONER_NOT_FOUND", status=422)
    return practitioner


def list_practitioners(query: dict) -> list[Practitioner]:
    """List practitioners by name, optionally of one department or only the active ones."""
    selection = Practitioner.select()
    if query.get("department"):
        selection = selection.where(Practitioner.department.startswith(query["department"]))
    if query.get("active") is not None:
        selection = selection.where(Practitioner.active == query["active"])
    return page(selection, Practitioner.full_name, query, descending=False, then=Practitioner.id)


def practitioner_snapshot(practitioner: Practitioner) -> dict:
    """Return a practitioner as a claim names them (common.contracts.PractitionerSnapshotSchema)."""
    return {"id": str(practitioner.id), "full_name": practitioner.full_name,
            "licence_number": practitioner.licence_number, "department": practitioner.department}


def practitioner_snapshots(references) -> dict[str, dict]:
    """Return {id as text: snapshot} for the practitioners named (ids or strings of digits; others are ignored)."""
    ids = sorted({int(str(ref).strip()) for ref in references
                  if ref is not None and str(ref).strip().isdigit() and len(str(ref).strip()) <= 18})
    if not ids:
        return {}
    return {str(p.id): practitioner_snapshot(p) for p in Practitioner.select().where(Practitioner.id.in_(ids))}
