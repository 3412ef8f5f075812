"""The pharmacy counter (pharmacist): the prescription queue, dispensing FEFO, receiving lots by scan, returns, recalls.

URL -> view -> template:
- /pharmacy/ home -> pharmacy/counter.html (scan a prescription, the queue); /pharmacy/queue -> _queue.html;
  /pharmacy/prescription?number=N[&qty_<line id>=Q...] -> _prescription.html: the lines, the FEFO lots the dispense
  would take (pharmacy API `dispense-plan`) with every lot's condition, the quantities, the confirm form;
- /pharmacy/dispenses (POST) -> _dispensed.html (or _short.html: not enough usable stock, planned again);
- /pharmacy/receive -> receive.html (the DataMatrix scan field); /pharmacy/receive/scan?code=... ->
  _receipt.html (drug, lot, expiry, serial read from the scan; quantity and cost to confirm) or _scan_refused.html;
  /pharmacy/lots (POST) -> _received.html;
- /pharmacy/returns -> returns.html; /pharmacy/returns/find?number=N -> _return.html (the prescription's dispenses,
  their lots and conditions); /pharmacy/returns (POST) -> _returned.html;
- /pharmacy/stock -> stock.html; /pharmacy/stock/drug?code=C -> _drug_lots.html; /pharmacy/stock/lots/<id> ->
  _lot.html (count and adjustment forms, the lot's latest stock card rows, recipients, recall form; the whole stock
  page around it without htmx; `?focus=count` focuses the count); /pharmacy/stock/lots/<id>/recall (POST) ->
  _recalled.html; /pharmacy/stock/lots/<id>/counts and /adjustments (POST) -> _lot.html with what was recorded
  (a refusal: common/_refusal.html into the panel's #lot-outcome);
- /pharmacy/catalogue[?cursor=] -> catalogue.html (the add-a-drug form, the catalogue by code, 50 a page);
  /pharmacy/catalogue/list -> _drug_list.html; /pharmacy/drugs (POST) -> _drug_form.html (a fresh form after the
  drug was added, or the refused form with what was typed and the fields at fault marked).

The dispense form (kept simple: the offline outbox will queue it as it is). `POST /pharmacy/dispenses`, form fields:
  csrf_token     this session's CSRF token (or the X-CSRF-Token header);
  prescription   the prescription's number (digits);
  submission_id  a version 4 UUID made in the browser (static/screens.js fills `data-submission-id`), forwarded
                 as the API's Idempotency-Key: the same form sent again is dispensed once (its answer replayed);
  qty_<line id>  the quantity to dispense now of each prescription line (a whole number; 0 or absent: none).
It posts `{"lines": [{"line_id": ..., "quantity": ...}, ...]}` (lines by id, keys sorted) to
/api/v1/pharmacy/prescriptions/<number>/dispenses, the same body for the same form every time. What a line does not
get now stays open on the prescription. The receipt, return, recall, count, adjustment and add-a-drug forms carry a
submission_id the same way; the adjustment form is on the browser's outbox too (a change by so many units is the
same whenever it arrives), the count is not (a counted quantity replayed later would undo what was dispensed since).

Scans: `read_scan` (common/gs1.py) reads the DataMatrix text a keyboard-wedge scanner types, with or without its
group separators (ASCII 29, which many wedges drop); the receipt is sent to the API with every separator in place.
"""

from gateway.screens.pharmacy import catalogue, dispensing, stock  # noqa: F401 (their views are on the area's blueprint)
from gateway.screens.pharmacy.shared import blp  # noqa: F401 (gateway.screens registers it)
