"""Whether billing keeps up with a bench's load: counts on the stack's databases, and a wait for the bills."""

import time

from playhouse.db_url import connect  # (peewee's URL parser: the services' own driver for each engine)

from bench.harness import Stack
from common.config import database_url_for


def count_rows(stack: Stack, service: str, query: str) -> int:
    """Run one `SELECT count(*) ...` on a service's database of the stack (either engine)."""
    database = connect(database_url_for(service, stack.env))
    try:
        return database.execute_sql(query).fetchone()[0]
    finally:
        database.close()


def billing_caught_up(stack: Stack, service: str, billable: str, timeout_s: float = 120.0):
    """Return settle() for a load's turns: it waits until billing holds an invoice line for every billable item
    `service` made since (`billable`: a count query on its database) and returns {"behind": the items not yet on a
    bill when it was called, "made": the items of the turn, "seconds": how long they took to get there}.

    A stack that answers quickly but bills late (its charges queued for later) would otherwise look fast: its
    backlog would be worked off in the next turn, the baseline's, and slow that one down."""
    lines = "SELECT count(*) FROM invoice_line"
    start = {"made": count_rows(stack, service, billable), "lines": count_rows(stack, "billing_service", lines)}
    last = {"made": start["made"]}

    def behind(made: int) -> int:
        return (made - start["made"]) - (count_rows(stack, "billing_service", lines) - start["lines"])

    def settle() -> dict:
        began, made = time.monotonic(), count_rows(stack, service, billable)
        figures = {"behind": behind(made), "made": made - last["made"]}
        while behind(made) > 0 and time.monotonic() - began < timeout_s:
            time.sleep(0.05)
        last["made"] = made
        return {**figures, "seconds": round(time.monotonic() - began, 2)}

    return settle
