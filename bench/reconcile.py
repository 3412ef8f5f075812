"""Reconciliation and BHYT export at hospital scale: 1,000,000 charge lines of one month on PostgreSQL.

A fresh database (dropped afterwards) is migrated with common.db.run_migrations and filled in SQL: 200,000 October
visits (90 % insured at 80 %), 1,000,000 charge lines of real BHYT codes and prices, 1,000 duplicated charges,
patient payments (3 % unpaid, 1 % overpaid), 500 unmatched bank transfers. Claims are built by the real verb in
three batches (10,000 visits, 100,000 visits, the rest); then 0.2 % of claimed charges are reversed, 0.4 % of drug
lines reduced, 1,000 charges arrive late, and BHXH's remittance answers 80 % of the claimed lines (2 % rejected, 1 %
underpaid).

Each measurement runs in a child process so its peak RSS (resource.getrusage) is its own:
the reconciliation of October (target ≤ 30 s, peak RSS < 500 MB on 2 cores) and the BHYT export of the 10k and
100k batches (memory must stay flat). Local only, bounded sizes. Figures are printed last.
Run: .venv/bin/python -m bench.reconcile [lines] [--keep]   (--keep leaves the database for EXPLAIN; drop it after)
"""

import json
import resource
import secrets
import subprocess
import sys
import time
from contextlib import closing

import psycopg2

from bench.harness import PYTHON, ROOT, _create_databases, _drop_databases

PERIOD = "2026-10"
LINES_PER_VISIT = 5
CATALOGUE = """(VALUES
 (0, '23.0075.1494', 'Định lượng Glucose [Máu]', 'Lần', 21500, 'service', 'lab', 1),
 (1, '23.0083.1523', 'Định lượng HbA1c [Máu]', 'Lần', 101000, 'service', 'lab', 1),
 (2, '22.0120.1370', 'Tổng phân tích tế bào máu ngoại vi (bằng máy đếm laser)', 'Lần', 46200, 'service', 'lab', 1),
 (3, '23.0019.1506', 'Định lượng Creatinin [Máu]', 'Lần', 21500, 'service', 'lab', 1),
 (4, '40.268', 'Ceftriaxone 1g (bột pha tiêm)', 'Lọ', 35000, 'drug', 'pharmacy', 10),
 (5, '40.17', 'Amoxicilin 500mg', 'Viên', 1500, 'drug', 'pharmacy', 21)
) AS item(idx, code, name, unit, price, kind, source, quantity)"""
NAMES = "ARRAY['Nguyễn Văn An','Trần Thị Bích Ngọc','Lê Văn Hùng','Phạm Thị Mai','Hoàng Văn Nam','Vũ Thị Lan']"


def _app(database_url: str):
    import billing_service

    return billing_service.create_app({"APP_ENV": "development", "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
                                       "JOBS_INLINE_SYNC": True})


def _sql(database_url: str, statement: str) -> None:
    with closing(psycopg2.connect(database_url)) as conn, conn, conn.cursor() as cur:
        cur.execute(statement)


def _visits(database_url: str, visits: int) -> None:
    """Insert the October visits (every tenth without a card) and one bill each."""
    _sql(database_url, f"""
    INSERT INTO encounter_snapshot (encounter_id, patient_id, kind, department, in_network, network_rate, status,
        opened_at, discharged_at, diagnosis_main, patient_json, coverage_json, received_at, updated_at)
    SELECT 'LK' || lpad(v::text, 8, '0'), 'BN' || lpad(v::text, 8, '0'), 'outpatient', 'K01', true, 100, 'closed',
        opened, opened + interval '3 hours', 'E11.9',
        json_build_object('id', 'BN' || lpad(v::text, 8, '0'), 'full_name', ({NAMES})[1 + v % 6],
            'birth_date', '1970-01-01'::date + (v % 18000), 'sex', CASE WHEN v % 2 = 0 THEN 'male' ELSE 'female' END,
            'cccd', '0010' || lpad(v::text, 8, '0'), 'address', 'Phố Huế, quận Hai Bà Trưng, Hà Nội')::text,
        CASE WHEN v % 10 = 0 THEN NULL ELSE json_build_object('card_number', 'DN40101' || lpad(v::text, 8, '0'),
            'registered_facility', '01001', 'valid_from', '2026-01-01', 'valid_to', '2026-12-31',
            'benefit_level', 80)::text END, now(), now()
    FROM generate_series(1, {visits}) AS v,
         LATERAL (SELECT timestamp '2026-10-01 02:00' + (v % 29) * interval '1 day'
                         + (v % 480) * interval '1 minute' AS opened) AS t;
    INSERT INTO invoice (encounter_id, patient_id, reference, state, benefit_level, hospital_amount, insured_amount,
        insurer_amount, copay_amount, patient_outside_amount, other_funding_amount, paid_amount, refunded_amount,
        currency, created_at, updated_at)
    SELECT encounter_id, patient_id, 'HD' || lpad(id::text, 8, '0'), 'open',
        CASE WHEN coverage_json IS NULL THEN 0 ELSE 80 END, 0, 0, 0, 0, 0, 0, 0, 0, 'VND', now(), now()
    FROM encounter_snapshot ORDER BY id;""")


def _lines(database_url: str, lines: int) -> None:
    """Insert the charge lines (five per visit, split at 80 %) and a same-minute duplicate on every 200th visit."""
    _sql(database_url, f"""
    INSERT INTO invoice_line (invoice_id, charge_key, source, source_id, item_kind, code, name, unit,
        charged_quantity, reversed_quantity, quantity, unit_price_amount, insurance_unit_price_amount,
        insurance_covered, insurance_rate, self_pay, hospital_amount, insured_amount, benefit_level, insurer_amount,
        copay_amount, patient_outside_amount, other_funding_amount, cost_amount, occurred_at, details_json,
        created_at, updated_at)
    SELECT i.id, item.source || ':bench:' || g, item.source, g::text, item.kind, item.code, item.name, item.unit,
        item.quantity, 0, item.quantity, item.price, item.price, true, 100, insured.no_card,
        item.quantity * item.price, money.insured, money.level, money.insurer, money.insured - money.insurer,
        item.quantity * item.price - money.insured, 0, 0,
        e.opened_at + (g % {LINES_PER_VISIT}) * interval '7 minutes', '{{}}', now(), now()
    FROM generate_series(1, {lines}) AS g
    JOIN invoice i ON i.id = (g - 1) / {LINES_PER_VISIT} + 1
    JOIN encounter_snapshot e ON e.encounter_id = i.encounter_id
    JOIN {CATALOGUE} ON item.idx = (g * 7 + (g - 1) / {LINES_PER_VISIT}) % 6
    CROSS JOIN LATERAL (SELECT e.coverage_json IS NULL AS no_card) AS insured
    CROSS JOIN LATERAL (SELECT CASE WHEN insured.no_card THEN 0 ELSE item.quantity * item.price END AS insured,
        CASE WHEN insured.no_card THEN 0 ELSE 80 END AS level,
        CASE WHEN insured.no_card THEN 0 ELSE (item.quantity * item.price * 80 + 50) / 100 END AS insurer) AS money;
    INSERT INTO invoice_line (invoice_id, charge_key, source, source_id, item_kind, code, name, unit,
        charged_quantity, reversed_quantity, quantity, unit_price_amount, insurance_unit_price_amount,
        insurance_covered, insurance_rate, self_pay, hospital_amount, insured_amount, benefit_level, insurer_amount,
        copay_amount, patient_outside_amount, other_funding_amount, cost_amount, occurred_at, details_json,
        created_at, updated_at)
    SELECT invoice_id, charge_key || ':again', source, source_id, item_kind, code, name, unit, charged_quantity,
        reversed_quantity, quantity, unit_price_amount, insurance_unit_price_amount, insurance_covered,
        insurance_rate, self_pay, hospital_amount, insured_amount, benefit_level, insurer_amount, copay_amount,
        patient_outside_amount, other_funding_amount, cost_amount, occurred_at, details_json, created_at, updated_at
    FROM invoice_line WHERE invoice_id % 200 = 7 AND charge_key LIKE '%:bench:%' AND source_id::bigint % 5 = 1;""")


def _bill_totals(database_url: str) -> None:
    """Sum the lines into each bill's totals."""
    _sql(database_url, """
    UPDATE invoice SET hospital_amount = s.hospital, insured_amount = s.insured, insurer_amount = s.insurer,
        copay_amount = s.copay, patient_outside_amount = s.outside
    FROM (SELECT invoice_id, sum(hospital_amount) AS hospital, sum(insured_amount) AS insured,
                 sum(insurer_amount) AS insurer, sum(copay_amount) AS copay, sum(patient_outside_amount) AS outside
          FROM invoice_line GROUP BY invoice_id) AS s
    WHERE s.invoice_id = invoice.id;""")


def _payments(database_url: str) -> None:
    """The patients pay their share in cash (3 % not yet, 1 % 50 000 đ too much); 500 transfers match no bill."""
    _sql(database_url, """
    INSERT INTO payment (invoice_id, method, amount, refunded_amount, reason, recorded_by, received_at, created_at)
    SELECT id, 'cash', copay_amount + patient_outside_amount + CASE WHEN id % 97 = 0 THEN 50000 ELSE 0 END, 0,
        'Thu tiền mặt tại quầy', 'cashier', now(), now()
    FROM invoice WHERE id % 33 <> 0 AND copay_amount + patient_outside_amount > 0;
    UPDATE invoice SET paid_amount = p.amount, state = 'paid' FROM payment p WHERE p.invoice_id = invoice.id;
    INSERT INTO bank_transfer (transaction_id, account, amount, memo, occurred_at, state, received_at)
    SELECT 'FT26290' || lpad(t::text, 9, '0'), '113366668888', 50000 + t * 1000, 'CHUYEN TIEN KHAM BENH',
        timestamp '2026-10-10 03:00' + t * interval '1 hour', 'unmatched', now()
    FROM generate_series(1, 500) AS t;""")


def _build_batches(database_url: str, lines: int) -> list[dict]:
    """Build October's claims with the real verb: 10,000 visits closed first, then 100,000, then the rest."""
    from billing_service.claims.services import build_claim_batch

    app, figures = _app(database_url), []
    insured = "SELECT id FROM encounter_snapshot WHERE coverage_json IS NOT NULL ORDER BY id"
    for closed_first in (10_000 * lines // 1_000_000, 110_000 * lines // 1_000_000, None):
        limit = f"LIMIT {closed_first}" if closed_first else ""
        _sql(database_url, f"UPDATE encounter_snapshot SET status = CASE WHEN id IN ({insured} {limit}) "
                           "OR coverage_json IS NULL THEN 'closed' ELSE 'open' END")
        with app.app_context():
            started = time.perf_counter()
            batch = build_claim_batch(PERIOD, "bench")
            figures.append({"batch_id": batch.id, "visits": batch.visit_count, "lines": batch.line_count,
                            "seconds": round(time.perf_counter() - started, 2)})
    app.extensions["database"].close_all()
    return figures


def _after_the_claims(database_url: str) -> None:
    """Reverse 0.2 % of claimed charges, reduce 0.4 % of drug lines, let 1,000 arrive late; BHXH answers 80 %."""
    _sql(database_url, """
    UPDATE invoice_line SET reversed_quantity = quantity, quantity = 0, hospital_amount = 0, insured_amount = 0,
        insurer_amount = 0, copay_amount = 0, patient_outside_amount = 0 WHERE id % 500 = 1;
    UPDATE invoice_line SET quantity = quantity - 1, reversed_quantity = 1,
        hospital_amount = hospital_amount - unit_price_amount,
        insured_amount = CASE WHEN self_pay THEN 0 ELSE hospital_amount - unit_price_amount END,
        insurer_amount = CASE WHEN self_pay THEN 0 ELSE ((hospital_amount - unit_price_amount) * 80 + 50) / 100 END,
        copay_amount = CASE WHEN self_pay THEN 0 ELSE (hospital_amount - unit_price_amount)
            - ((hospital_amount - unit_price_amount) * 80 + 50) / 100 END,
        patient_outside_amount = CASE WHEN self_pay THEN hospital_amount - unit_price_amount ELSE 0 END
    WHERE quantity > 1 AND abs(hashtext(charge_key)) % 250 = 0;
    INSERT INTO invoice_line (invoice_id, charge_key, source, source_id, item_kind, code, name, unit,
        charged_quantity, reversed_quantity, quantity, unit_price_amount, insurance_unit_price_amount,
        insurance_covered, insurance_rate, self_pay, hospital_amount, insured_amount, benefit_level, insurer_amount,
        copay_amount, patient_outside_amount, other_funding_amount, cost_amount, occurred_at, details_json,
        created_at, updated_at)
    SELECT invoice_id, charge_key || ':late', source, source_id, item_kind, code, name, unit, charged_quantity, 0,
        charged_quantity, unit_price_amount, insurance_unit_price_amount, insurance_covered, insurance_rate, self_pay,
        hospital_amount, insured_amount, benefit_level, insurer_amount, copay_amount, patient_outside_amount, 0, 0,
        occurred_at + interval '1 minute', '{}', now(), now()
    FROM invoice_line WHERE id % 1000 = 3 AND NOT self_pay;
    INSERT INTO remittance_import (file_sha256, file_format, row_count, accepted_count, duplicate_count,
        rejected_count, rejected_rows, approved_amount, paid_amount, created_by, created_at)
    VALUES (md5('bench') || md5('remittance'), 'csv', 0, 0, 0, 0, '[]', 0, 0, 'bench', now());
    INSERT INTO remittance_line (remittance_id, claim_line_id, source_line, approved_amount, rejection_reason,
        paid_amount, payment_reference, paid_on, created_at)
    SELECT 1, id, id + 1, approved, CASE WHEN id % 50 = 1 THEN 'Chỉ định không phù hợp chẩn đoán' ELSE '' END,
        CASE WHEN id % 100 = 3 THEN approved / 2 ELSE approved END,
        CASE WHEN id % 50 = 1 THEN '' ELSE 'BHXH-HN-2026-11-0001' END, date '2026-11-28', now()
    FROM (SELECT id, CASE WHEN id % 50 = 1 THEN 0 ELSE insurer_amount END AS approved
          FROM claim_line WHERE id % 5 <> 0) AS answered;
    UPDATE claim_line SET approved_amount = r.approved_amount, rejection_reason = NULLIF(r.rejection_reason, ''),
        paid_amount = r.paid_amount
    FROM remittance_line r WHERE r.claim_line_id = claim_line.id;""")
    _bill_totals(database_url)
    _sql(database_url, "ANALYZE")


def generate(database_url: str, lines: int) -> dict:
    """Fill a migrated database; return how long each part took."""
    import billing_service
    from common.db import run_migrations

    app = _app(database_url)
    run_migrations(app.extensions["database"], billing_service.MIGRATIONS_DIR)
    app.extensions["database"].close_all()
    timings = {}
    for name, step in (("visits", lambda: _visits(database_url, lines // LINES_PER_VISIT)),
                       ("lines", lambda: _lines(database_url, lines)), ("bill totals", lambda: _bill_totals(
                           database_url)), ("payments", lambda: _payments(database_url))):
        started = time.perf_counter()
        step()
        timings[name] = round(time.perf_counter() - started, 1)
        print(f"{name}: {timings[name]} s", flush=True)
    timings["batches"] = _build_batches(database_url, lines)
    started = time.perf_counter()
    _after_the_claims(database_url)
    timings["after the claims"] = round(time.perf_counter() - started, 1)
    return timings


def _peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # kilobytes on Linux


def measure_reconciliation(database_url: str) -> dict:
    """Child process: reconcile October once; report seconds, peak RSS and the discrepancies by kind."""
    from billing_service.claims.services import reconcile

    app, steps = _app(database_url), []

    def progress(step: str, percent: int) -> None:
        steps.append((step, time.perf_counter()))

    with app.app_context():
        started = time.perf_counter()
        report = reconcile(PERIOD, progress)
        finished = time.perf_counter()
        body = json.dumps(report)
    marks = [*steps, ("", finished)]
    step_seconds = {name: round(marks[i + 1][1] - at, 2) for i, (name, at) in enumerate(steps)}
    by_kind = {kind: figures["count"] for kind, figures in report["totals"]["by_kind"].items()}
    return {"seconds": round(finished - started, 2), "peak_rss_mb": _peak_rss_mb(), "json_mb": len(body) // 1_000_000,
            "steps": step_seconds,
            "charged_lines": report["totals"]["charged_line_count"],
            "claimed_lines": report["totals"]["claimed_line_count"], "by_kind": by_kind}


def measure_export(database_url: str, batch_id: int) -> dict:
    """Child process: stream one batch's BHYT file to nowhere; report seconds, bytes and peak RSS."""
    from billing_service.claims.services import export_claim_batch

    app = _app(database_url)
    baseline = _peak_rss_mb()
    with app.app_context():
        started = time.perf_counter()
        size = sum(len(chunk) for chunk in export_claim_batch(batch_id, "bhyt-4750").chunks)
    return {"seconds": round(time.perf_counter() - started, 1), "mb": size // 1_000_000,
            "rss_before_mb": baseline, "peak_rss_mb": _peak_rss_mb()}


def _child(*args: str) -> dict:
    done = subprocess.run([PYTHON, "-m", "bench.reconcile", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=3600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(lines: int = 1_000_000, keep: bool = False) -> None:
    name = f"bench_reconcile_{secrets.token_hex(4)}"
    database_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    _create_databases([name])
    try:
        timings = generate(database_url, lines)
        print(f"generated {lines} charge lines in {name}: {json.dumps(timings, ensure_ascii=False)}", flush=True)
        batches = timings["batches"]
        reconciliation = _child("--reconcile", database_url)
        exports = {batch["visits"]: _child("--export", database_url, str(batch["batch_id"])) for batch in batches[:2]}
    finally:
        if not keep:
            _drop_databases([name])
    print(f"reconciliation of {PERIOD}: {json.dumps(reconciliation)}")
    for visits, figures in exports.items():
        print(f"BHYT export of {visits} visits: {json.dumps(figures)}")
    print(f"RESULT reconciliation {reconciliation['seconds']} s, peak RSS {reconciliation['peak_rss_mb']} MB "
          f"(targets <= 30 s, < 500 MB); export peak RSS "
          + ", ".join(f"{visits} visits {figures['peak_rss_mb']} MB" for visits, figures in exports.items()))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--reconcile":
        print(json.dumps(measure_reconciliation(sys.argv[2])))
    elif len(sys.argv) > 3 and sys.argv[1] == "--export":
        print(json.dumps(measure_export(sys.argv[2], int(sys.argv[3]))))
    else:
        arguments = [argument for argument in sys.argv[1:] if argument != "--keep"]
        main(int(arguments[0]) if arguments else 1_000_000, keep="--keep" in sys.argv)
