"""The lab head's office (lab_head): reagents and lots, the catalogue, recipes, alerts, counts and wastage, reports.

URL -> view -> template:
/lab/ home -> lab/home.html (every reagent's stock and lots at a glance, the open alerts);
/lab/reagents/<code> -> lab/reagent.html (POST .../settings: reorder level, cost, QC release, stability), its live
  part lab/_stock.html (lots, receive, count, wastage, stock card);
  POST /lab/reagents/<code>/lots (receive), .../lots/<id>/{release,quarantine,open}, /lab/lots/{count,wastage}
  answer lab/_stock.html again, with what was done;
/lab/catalogue[/reagents|tests|analyzers] -> lab/catalogue.html (a list by code, paged: .../rows ->
  lab/_catalogue_rows.html; the form adding one: lab/_new_<kind>.html; POST adds it, a new test goes on to its recipe);
/lab/recipes -> lab/recipes.html; /lab/recipes/<code> -> lab/recipe.html (PUT of the whole recipe);
/lab/alerts -> lab/alerts.html; POST /lab/alerts/<id>/acknowledge -> lab/_alert.html;
/lab/counts -> lab/counts.html (every count adjustment and wastage: the discrepancies);
/lab/reports/{yield,forecast,margin} -> lab/report_*.html (a table and an SVG chart), each with a .csv download.

Every form posts through the gateway's public API in-process. Stock forms carry a UUID made in the browser,
forwarded as the Idempotency-Key (as at the bench), so a double submit receives, counts or wastes once. A refusal
is shown above the form (HX-Retarget) so what the lab head typed stays in the form.
"""

from gateway.screens.lab import catalogue, reports, stock  # noqa: F401 (their views are on the area's blueprint)
from gateway.screens.lab.shared import blp  # noqa: F401 (gateway.screens registers it)
