"""What the lab head reads: open alerts, the reagent-yield report and the forecast."""

from flask import Response
from flask_smorest import Blueprint

from common.auth import require_roles
from common.openapi import also_answers
from lab_service import services
from lab_service.margin_schemas import MarginQuerySchema, MarginReportSchema
from lab_service.schemas import AlertQuerySchema, AlertSchema, ForecastSchema, YieldQuerySchema, YieldReportSchema

blp = Blueprint("lab_reports", __name__, url_prefix="/api/v1/lab", description="Alerts and reports")


@blp.route("/alerts")
@require_roles("lab_tech", "lab_head")
@blp.arguments(AlertQuerySchema(), location="query")
@blp.response(200, AlertSchema(many=True))
def list_alerts(query):
    """List alerts, open ones by default, newest first."""
    return services.list_alerts(query)


@blp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@require_roles("lab_head")
@blp.response(200, AlertSchema)
def acknowledge_alert(alert_id):
    """Mark an open alert as seen; it stays acknowledged until its condition clears (then it closes)."""
    return services.acknowledge_alert(alert_id)


@blp.route("/reports/reagent-yield")
@require_roles("lab_head")
@blp.arguments(YieldQuerySchema(), location="query")
@blp.response(200, YieldReportSchema)
def reagent_yield(query):
    """Per reagent and lot: expected vs logged vs billed tests, QC use, loss and unexplained consumption."""
    return services.reagent_yield(query.get("start"), query.get("end"))


@blp.route("/reports/forecast")
@require_roles("lab_tech", "lab_head")
@blp.response(200, ForecastSchema)
def forecast():
    """Per reagent: days of cover and tests remaining per test type."""
    return services.forecast()


@blp.route("/reports/margin")
@require_roles("lab_head")
@blp.arguments(MarginQuerySchema(), location="query")
@blp.response(200, MarginReportSchema)
@blp.doc(**also_answers("text/csv", "format=csv: the margin rows; with part=unbilled, the runs nobody billed"))
def margin(query):
    """Per test, period and payer: tests billed, revenue, reagent cost, margin; and runs used but never billed."""
    report = services.lab_margin(query.get("start"), query.get("end"), query["group"])
    if query.get("format") == "csv":
        name = f"lab_margin_{report['start']}_{report['end']}{'_unbilled' if query['part'] == 'unbilled' else ''}"
        return Response(services.margin_as_csv(report, query["part"]), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return report
