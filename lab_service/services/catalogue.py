"""Catalogue verbs: reagents and their lots, analyzers, tests and their reagent recipes."""

from dataclasses import dataclass

import peewee

from common import clock
from common.bounds import MAX_AMOUNT, ensure_within
from common.errors import Conflict, NotFound, ValidationFailed
from common.paging import page
from lab_service import store
from lab_service.models import Analyzer, LabTest, Reagent, ReagentLot, RecipeLine, db
from lab_service.services import stock
from lab_service.services.alert_requests import request_alert_check


def create_reagent(fields: dict) -> Reagent:
    """Add a reagent to the catalogue; its code must be new."""
    try:
        with db.atomic():
            return Reagent.create(**fields)
    except peewee.IntegrityError:
        raise Conflict(f"Reagent {fields['code']} already exists", code="REAGENT_EXISTS") from None


def update_reagent(code: str, changes: dict) -> Reagent:
    """Change a reagent's catalogue settings (reorder level, cost, QC release, stability); alerts are re-checked."""
    reagent = stock.reagent_by_code(code)
    if changes:
        with db.atomic():
            Reagent.update(**changes).where(Reagent.id == reagent.id).execute()
        request_alert_check(reagent.id)
    return Reagent.get_by_id(reagent.id)


def lot_view(lot: ReagentLot, reagent: Reagent) -> dict:
    """Describe a lot with whether it can be used now and why not."""
    reason = stock.unusable_reason(lot, reagent)
    return {
        "id": lot.id, "reagent_code": reagent.code, "lot_number": lot.lot_number, "supplier": lot.supplier,
        "expires_on": lot.expires_on, "state": lot.state, "opened_at": lot.opened_at,
        "stable_until": stock.stability_ends(lot, reagent), "received_quantity": lot.received_quantity,
        "on_hand": lot.on_hand if reason is None else 0, "book_quantity": lot.on_hand,
        "usable": reason is None, "unusable_reason": reason if reason != "empty" else None,
        "cost_amount": lot.cost_amount, "received_at": lot.received_at,
    }


def reagent_stock(code: str) -> dict:
    """Show a reagent with its lots: usable on-hand per lot and in total, plus what is held but unusable."""
    reagent = stock.reagent_by_code(code)
    lots = [lot_view(lot, reagent) for lot in
            ReagentLot.select().where(ReagentLot.reagent == reagent).order_by(ReagentLot.expires_on, ReagentLot.id)]
    usable = sum(lot["on_hand"] for lot in lots)
    held = sum(lot["book_quantity"] for lot in lots)
    fields = {name: getattr(reagent, name) for name in Reagent._meta.fields}
    return {**fields, "on_hand": usable, "unusable_quantity": held - usable,
            "below_reorder_level": usable < reagent.reorder_level, "lots": lots}


def receive_lot(code: str, fields: dict) -> dict:
    """Record a lot received into stock (quarantined when the reagent needs QC release) and its receipt row."""
    reagent = stock.reagent_by_code(code)
    stock.reject_past_expiry(fields["expires_on"])
    cost = fields.get("cost_amount")
    if cost is None:
        cost = fields["quantity"] * reagent.unit_cost_amount
    ensure_within(cost, MAX_AMOUNT, f"The cost of lot {fields['lot_number']}", code="LOT_COST_TOO_HIGH")
    quarantined = reagent.requires_qc_release
    try:
        with db.atomic():
            lot = ReagentLot.create(
                reagent=reagent, lot_number=fields["lot_number"], supplier=fields.get("supplier", ""),
                expires_on=fields["expires_on"], received_quantity=fields["quantity"], on_hand=fields["quantity"],
                cost_amount=cost, state="quarantined" if quarantined else "released",
                released_at=None if quarantined else clock.now())
            lot.reagent = reagent
            stock.record(lot, "receipt", fields["quantity"], cost_amount=cost,
                         reason=f"received from {lot.supplier}" if lot.supplier else "received")
    except peewee.IntegrityError:
        raise Conflict(f"Lot {fields['lot_number']} of {code} was already received", code="LOT_EXISTS") from None
    request_alert_check(reagent.id)
    return lot_view(lot, reagent)


def release_lot(code: str, lot_id: int) -> dict:
    """Release a quarantined lot after its QC passed, making it usable."""
    reagent = stock.reagent_by_code(code)
    lot = stock.lot_by_id(lot_id, reagent)
    with db.atomic():
        released = (ReagentLot.update(state="released", released_at=clock.now())
                    .where((ReagentLot.id == lot.id) & (ReagentLot.state == "quarantined")).execute())
    if not released:
        raise Conflict(f"Lot {lot.lot_number} is not in quarantine", code="LOT_NOT_QUARANTINED")
    request_alert_check(reagent.id)
    return lot_view(ReagentLot.get_by_id(lot.id), reagent)


def quarantine_lot(code: str, lot_id: int) -> dict:
    """Put a released lot back in quarantine (a QC failure, a recall notice): no test takes from it until released."""
    reagent = stock.reagent_by_code(code)
    lot = stock.lot_by_id(lot_id, reagent)
    with db.atomic():
        quarantined = (ReagentLot.update(state="quarantined", released_at=None)
                       .where((ReagentLot.id == lot.id) & (ReagentLot.state == "released")).execute())
    if not quarantined:
        raise Conflict(f"Lot {lot.lot_number} is already quarantined", code="LOT_ALREADY_QUARANTINED")
    request_alert_check(reagent.id)
    return lot_view(ReagentLot.get_by_id(lot.id), reagent)


def open_lot(code: str, lot_id: int) -> dict:
    """Open a lot: its in-use stability clock starts now."""
    reagent = stock.reagent_by_code(code)
    lot = stock.lot_by_id(lot_id, reagent)
    if lot.state != "released":
        raise Conflict(f"Lot {lot.lot_number} is quarantined until QC releases it", code="LOT_QUARANTINED")
    with db.atomic():
        opened = (ReagentLot.update(opened_at=clock.now())
                  .where((ReagentLot.id == lot.id) & ReagentLot.opened_at.is_null()).execute())
    if not opened:
        raise Conflict(f"Lot {lot.lot_number} was already opened", code="LOT_ALREADY_OPENED")
    request_alert_check(reagent.id)
    return lot_view(ReagentLot.get_by_id(lot.id), reagent)


def create_analyzer(fields: dict) -> Analyzer:
    """Add an analyzer; its code must be new."""
    try:
        with db.atomic():
            return Analyzer.create(**fields)
    except peewee.IntegrityError:
        raise Conflict(f"Analyzer {fields['code']} already exists", code="ANALYZER_EXISTS") from None


def analyzer_by_code(code: str) -> Analyzer:
    """Return the analyzer with `code` or raise 404."""
    analyzer = Analyzer.get_or_none(Analyzer.code == code)
    if analyzer is None:
        raise NotFound(f"No analyzer with code {code}", code="ANALYZER_NOT_FOUND")
    return analyzer


def lab_test_by_code(code: str) -> LabTest:
    """Return the test with `code` or raise 404."""
    lab_test = LabTest.get_or_none(LabTest.code == code)
    if lab_test is None:
        raise NotFound(f"No test with code {code}", code="TEST_NOT_FOUND")
    return lab_test


def _recipe_rows(recipe: list[dict]) -> list[dict]:
    """Resolve recipe lines' reagent and analyzer codes, naming every unknown one."""
    reagents = {r.code: r for r in Reagent.select().where(Reagent.code.in_({line["reagent_code"] for line in recipe}))}
    wanted = {line["analyzer_code"] for line in recipe if line.get("analyzer_code")}
    analyzers = {a.code: a for a in Analyzer.select().where(Analyzer.code.in_(wanted))} if wanted else {}
    errors = {}
    for index, line in enumerate(recipe):
        if line["reagent_code"] not in reagents:
            errors[f"recipe.{index}.reagent_code"] = [f"No reagent with code {line['reagent_code']}"]
        if line.get("analyzer_code") and line["analyzer_code"] not in analyzers:
            errors[f"recipe.{index}.analyzer_code"] = [f"No analyzer with code {line['analyzer_code']}"]
    if errors:
        raise ValidationFailed("The recipe names unknown reagents or analyzers", errors=errors)
    return [{"reagent": reagents[line["reagent_code"]], "quantity": line["quantity"],
             "basis": line.get("basis", "test"), "analyzer": analyzers.get(line.get("analyzer_code"))}
            for line in recipe]


def create_lab_test(fields: dict) -> dict:
    """Add a test with its reagent recipe (per test, per run, per opened lot, per day; optionally per analyzer)."""
    recipe = fields.pop("recipe", [])
    rows = _recipe_rows(recipe)
    try:
        with db.atomic():
            lab_test = LabTest.create(**fields)
            for row in rows:
                RecipeLine.create(lab_test=lab_test, **row)
    except peewee.IntegrityError:
        raise Conflict(f"Test {fields['code']} already exists", code="TEST_EXISTS") from None
    return lab_test_view(lab_test)


def replace_recipe(code: str, recipe: list[dict]) -> dict:
    """Replace a test's whole recipe (applies to runs logged from now on)."""
    lab_test = lab_test_by_code(code)
    rows = _recipe_rows(recipe)
    with db.atomic():
        RecipeLine.delete().where(RecipeLine.lab_test == lab_test).execute()
        for row in rows:
            RecipeLine.create(lab_test=lab_test, **row)
    return lab_test_view(lab_test)


def recipe_of(lab_test: LabTest, analyzer: Analyzer | None) -> list[RecipeLine]:
    """Return the recipe used on `analyzer`: its own lines if it has any, else the default lines."""
    lines = list(RecipeLine.select(RecipeLine, Reagent).join(Reagent)
                 .where(RecipeLine.lab_test == lab_test).order_by(RecipeLine.id))
    return _lines_for(lines, analyzer)


def _lines_for(lines: list[RecipeLine], analyzer: Analyzer | None) -> list[RecipeLine]:
    """Pick the analyzer's own lines when it has any, else the default ones."""
    own = [line for line in lines if analyzer is not None and line.analyzer_id == analyzer.id]
    return own or [line for line in lines if line.analyzer_id is None]


@dataclass
class Recipe:
    """A test as it runs on one analyzer: the test, the analyzer (None: any) and the recipe lines used there."""

    lab_test: LabTest
    analyzer: Analyzer | None
    lines: list[RecipeLine]

    @property
    def reagents(self) -> list[Reagent]:
        """The reagents the recipe draws on, each once."""
        return list({line.reagent_id: line.reagent for line in self.lines}.values())


def recipe_for_a_run(test_code: str, analyzer_code: str | None) -> Recipe:
    """Look up a test, the analyzer and the recipe used on it (one query when the test has a recipe); 404s."""
    lines = store.recipe_lines(test_code)
    lab_test = lines[0].lab_test if lines else lab_test_by_code(test_code)
    analyzer = None
    if analyzer_code:
        known = [line.analyzer for line in lines if line.analyzer_id and line.analyzer.code == analyzer_code]
        analyzer = known[0] if known else analyzer_by_code(analyzer_code)
    return Recipe(lab_test, analyzer, _lines_for(lines, analyzer))


def lab_test_view(lab_test: LabTest) -> dict:
    """Describe a test with its recipe lines."""
    lines = (RecipeLine.select(RecipeLine, Reagent, Analyzer).join(Reagent)
             .switch(RecipeLine).join(Analyzer, peewee.JOIN.LEFT_OUTER)
             .where(RecipeLine.lab_test == lab_test).order_by(RecipeLine.id))
    fields = {name: getattr(lab_test, name) for name in LabTest._meta.fields}
    fields["recipe"] = [{"reagent_code": line.reagent.code, "quantity": line.quantity, "basis": line.basis,
                         "analyzer_code": line.analyzer.code if line.analyzer_id else None} for line in lines]
    return fields


def list_lab_tests(query: dict) -> list[dict]:
    """List one page of the test catalogue with recipes, by code."""
    return [lab_test_view(t) for t in page(LabTest.select(), LabTest.code, query, descending=False)]
