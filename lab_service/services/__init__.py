"""Lab verbs; each owns its transaction. Import them from here."""

from lab_service.services.alerts import acknowledge_alert, check_every_reagent, evaluate_reagent_alerts, list_alerts
from lab_service.services.catalogue import (
    create_analyzer,
    create_lab_test,
    create_reagent,
    lab_test_by_code,
    lab_test_view,
    list_lab_tests,
    open_lot,
    quarantine_lot,
    reagent_stock,
    receive_lot,
    release_lot,
    replace_recipe,
    update_reagent,
)
from lab_service.services.margin import lab_margin, margin_as_csv
from lab_service.services.reports import forecast, reagent_yield
from lab_service.services.runs import (
    describe_run,
    list_runs,
    list_worklist,
    log_qc_run,
    log_test_run,
    order_test,
    void_test_run,
)
from lab_service.services.stock import count_lot, record_wastage, stock_card

__all__ = [
    "acknowledge_alert", "check_every_reagent", "count_lot", "create_analyzer", "create_lab_test", "create_reagent",
    "describe_run", "evaluate_reagent_alerts", "forecast",
    "lab_margin", "margin_as_csv", "lab_test_by_code", "lab_test_view", "list_alerts", "list_lab_tests",
    "list_runs", "list_worklist", "log_qc_run", "log_test_run", "open_lot", "order_test", "quarantine_lot",
    "reagent_stock", "reagent_yield", "receive_lot", "record_wastage", "release_lot", "replace_recipe", "stock_card",
    "update_reagent", "void_test_run",
]
