"""Remittance import: the insurer's assessment and payment of claimed lines, from CSV (with a header) or JSON lines.

Rows are checked one by one; good rows are stored, bad rows are reported with their line number and reason (the
file is refused with 422 only when no row is usable). Importing is idempotent twice over: a file already imported
(same SHA-256) returns its first report and changes nothing, and a row already stored for the same claimed line and
payment reference is counted as a duplicate. The same line and payment reference with other amounts is refused:
a correction comes with its own payment reference.
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal

import peewee
from marshmallow import EXCLUDE, ValidationError

from billing_service import store
from billing_service.claims.models import ClaimLine, RemittanceImport, RemittanceLine
from billing_service.claims.precheck import Said, said
from billing_service.claims.schemas import RemittanceRowSchema
from billing_service.models import db
from common.errors import ApiError, Conflict, NotFound, ValidationFailed
from common.paging import page

MEDIA_TYPES = {"text/csv": "csv", "application/csv": "csv", "application/x-ndjson": "ndjson",
               "application/jsonl": "ndjson", "application/x-jsonlines": "ndjson"}
REQUIRED_COLUMNS = ("ma_lk", "table", "line_no", "approved_amount")
COLUMNS = (*REQUIRED_COLUMNS, "rejection_reason", "paid_amount", "payment_reference", "paid_on")
CHUNK = 500
MAX_REPORTED = 1000  # rejected rows listed in a report; the count is always exact


@dataclass
class RowCheck:
    """The verdict on a file's rows."""

    accepted: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    duplicates: int = 0


def _file_format(media_type: str) -> str:
    file_format = MEDIA_TYPES.get((media_type or "").split(";")[0].strip().lower())
    if file_format is None:
        raise ApiError("Send the remittance as text/csv (with a header row) or application/x-ndjson (one JSON "
                       "object per line)", code="UNSUPPORTED_MEDIA_TYPE", status=415)
    return file_format


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # spreadsheets often start their CSV with a byte order mark
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"The file is not UTF-8 text (byte {exc.start})", code="REMITTANCE_NOT_UTF8") from None


def _csv_rows(text: str):
    """Yield (line number, row dict) for every non-empty CSV record; line 1 is the header."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ValidationFailed("The header row lacks: " + ", ".join(missing), code="REMITTANCE_COLUMNS_MISSING",
                               errors={"columns": [f"Missing column {name}." for name in missing]})
    reader.fieldnames = header
    for record in reader:
        values = {name: (value or "").strip() for name, value in record.items() if name in COLUMNS}
        if any(values.values()):
            yield reader.line_num, values


def _ndjson_rows(text: str):
    """Yield (line number, row dict or the reason it is unreadable) for every non-blank line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_float=Decimal)  # never a binary float near money
        except (ValueError, RecursionError):  # RecursionError: nested too deep to be a row
            yield number, said("not_json", "Not valid JSON.")
            continue
        yield number, record if isinstance(record, dict) else said("not_json_object", "Not a JSON object.")


def _reason(messages: dict) -> Said:
    """Why a row's values were refused: in English, and as the columns it names."""
    text = "; ".join(f"{name}: {' '.join(map(str, texts)) if isinstance(texts, list) else texts}"
                     for name, texts in sorted(messages.items()))
    return said("invalid_columns", text, columns=sorted(messages))


def _rejected(line: int, reason: Said) -> dict:
    """A row of the file that is not used: its line, why in English (`reason`), and the same as `reason_code` and
    `reason_params`, for a screen to say in its user's language."""
    return {"line": line, "reason": reason.text, "reason_code": reason.code, "reason_params": reason.params}


def _valid_rows(rows, check: RowCheck) -> list[tuple[int, dict]]:
    schema, valid = RemittanceRowSchema(), []
    for line, record in rows:
        if isinstance(record, Said):
            check.rejected.append(_rejected(line, record))
            continue
        try:
            row = schema.load(record, unknown=EXCLUDE)
        except ValidationError as exc:
            check.rejected.append(_rejected(line, _reason(exc.messages)))
            continue
        row.update({name: row[name].strip() for name in ("ma_lk", "rejection_reason", "payment_reference")})
        valid.append((line, row))
    return valid


def _claim_lines(ma_lks: set[str]) -> dict[tuple, int]:
    """Return {(MA_LK, table, STT): claim line id} for the claimed lines of these visits."""
    found, ordered = {}, sorted(ma_lks)
    for start in range(0, len(ordered), CHUNK):
        query = (ClaimLine.select(ClaimLine.id, ClaimLine.ma_lk, ClaimLine.xml_table, ClaimLine.line_no)
                 .where(ClaimLine.ma_lk.in_(ordered[start:start + CHUNK])).tuples())
        found.update({(ma_lk, table, line_no): line_id for line_id, ma_lk, table, line_no in query})
    return found


def _fingerprint(row: dict) -> tuple:
    return row["approved_amount"], row["rejection_reason"], row["paid_amount"], row["paid_on"]


def _stored_rows(claim_line_ids: list[int]) -> dict[tuple, tuple]:
    """Return {(claim line id, payment reference): fingerprint} of the rows already imported for these lines."""
    stored = {}
    for start in range(0, len(claim_line_ids), CHUNK):
        query = (RemittanceLine.select(RemittanceLine.claim_line, RemittanceLine.payment_reference,
                                       RemittanceLine.approved_amount, RemittanceLine.rejection_reason,
                                       RemittanceLine.paid_amount, RemittanceLine.paid_on)
                 .where(RemittanceLine.claim_line.in_(claim_line_ids[start:start + CHUNK])).dicts())
        stored.update({(row["claim_line"], row["payment_reference"]): _fingerprint(row) for row in query})
    return stored


def check_rows(rows) -> RowCheck:
    """Sort a file's rows into accepted, duplicate and rejected (with the line number and reason)."""
    check = RowCheck()
    valid = _valid_rows(rows, check)
    claim_lines = _claim_lines({row["ma_lk"] for _, row in valid})
    seen = _stored_rows(sorted(set(claim_lines.values())))
    for line, row in valid:
        claim_line_id = claim_lines.get((row["ma_lk"], row["table"], row["line_no"]))
        if claim_line_id is None:
            check.rejected.append(_rejected(line, said(
                "no_claimed_line", f"No claimed {row['table']} line {row['line_no']} for MA_LK {row['ma_lk']}.",
                table=row["table"], line_no=row["line_no"], ma_lk=row["ma_lk"])))
            continue
        key, fingerprint = (claim_line_id, row["payment_reference"]), _fingerprint(row)
        if seen.get(key) == fingerprint:
            check.duplicates += 1
        elif key in seen:
            check.rejected.append(_rejected(line, said(
                "payment_reference_conflict", "This line already has a row with payment reference "
                f"'{row['payment_reference']}' and other amounts; send a correction with its own payment reference.",
                payment_reference=row["payment_reference"])))
        else:
            seen[key] = fingerprint
            check.accepted.append({**row, "claim_line": claim_line_id, "source_line": line})
    check.rejected.sort(key=lambda rejected: rejected["line"])
    return check


def _store(raw: bytes, file_format: str, row_count: int, check: RowCheck, actor: str) -> RemittanceImport:
    remittance = RemittanceImport.create(
        file_sha256=hashlib.sha256(raw).hexdigest(), file_format=file_format, row_count=row_count,
        accepted_count=len(check.accepted), duplicate_count=check.duplicates, rejected_count=len(check.rejected),
        rejected_rows=json.dumps(check.rejected[:MAX_REPORTED], ensure_ascii=False),
        approved_amount=sum(row["approved_amount"] for row in check.accepted),
        paid_amount=sum(row["paid_amount"] for row in check.accepted), created_by=actor)
    columns = ("claim_line", "source_line", "approved_amount", "rejection_reason", "paid_amount",
               "payment_reference", "paid_on")
    for start in range(0, len(check.accepted), CHUNK):
        RemittanceLine.insert_many([{"remittance": remittance.id, **{c: row[c] for c in columns}}
                                    for row in check.accepted[start:start + CHUNK]]).execute()
    _answer_claim_lines(check.accepted)
    return remittance


def _answer_claim_lines(accepted: list[dict]) -> None:
    """Carry the new rows onto their claim lines: the last row's approval and reason, paid added in SQL."""
    answers: dict[int, dict] = {}
    for row in accepted:  # file order: a later row of the same line is the newer answer
        answer = answers.setdefault(row["claim_line"], {"paid_amount": 0})
        answer.update(approved_amount=row["approved_amount"], rejection_reason=row["rejection_reason"] or None,
                      paid_amount=answer["paid_amount"] + row["paid_amount"])
    store.answer_claim_lines(answers)


def import_remittance(raw: bytes, media_type: str, actor: str) -> tuple[RemittanceImport, bool]:
    """Import an insurer's remittance file once; return its report and whether it was new."""
    file_format = _file_format(media_type)
    existing = RemittanceImport.get_or_none(RemittanceImport.file_sha256 == hashlib.sha256(raw).hexdigest())
    if existing is not None:
        existing.already_imported = True
        return existing, False
    text = _text(raw)
    rows = list(_csv_rows(text) if file_format == "csv" else _ndjson_rows(text))
    if not rows:
        raise ValidationFailed("The file has no rows", code="REMITTANCE_EMPTY")
    try:
        with db.atomic():
            check = check_rows(rows)
            if not check.accepted and not check.duplicates:
                raise ValidationFailed(f"No row of the file can be used ({len(check.rejected)} rejected)",
                                       code="REMITTANCE_REJECTED", rejected=check.rejected[:MAX_REPORTED])
            remittance = _store(raw, file_format, len(rows), check, actor)
    except peewee.IntegrityError:
        raise Conflict("Another import of the same rows finished first; import the file again to see what is left",
                       code="REMITTANCE_IMPORT_CONFLICT") from None
    remittance.already_imported = False
    return remittance, True


def get_remittance(remittance_id: int) -> RemittanceImport:
    """Return an import report or raise 404."""
    remittance = RemittanceImport.get_or_none(RemittanceImport.id == remittance_id)
    if remittance is None:
        raise NotFound(f"No remittance import {remittance_id}", code="REMITTANCE_NOT_FOUND")
    remittance.already_imported = False
    return remittance


def list_remittances(query: dict) -> list[RemittanceImport]:
    """Return one page of import reports, newest first."""
    remittances = page(RemittanceImport.select(), RemittanceImport.id, query)
    for remittance in remittances:
        remittance.already_imported = False
    return remittances
