"""What every stock-moving verb shares: planning from a plain read, then taking with guarded decrements.

A verb reads the usable lots, plans first-expiry-first-out, writes what it did, and takes the planned quantities
last with guarded decrements (`... SET on_hand = on_hand - n WHERE id = ? AND on_hand >= n`, row count checked), so
the hot lot rows are locked only for the end of its transaction. A decrement that finds less than planned means
another verb took the stock first: it raises StockMoved, the attempt's transaction rolls back, and the verb plans
again from what is committed now:

    for attempt in stock_attempts():
        with attempt, db.atomic():
            lots = store.usable_lots(...)
            ...
            store.take(picks)          # raises StockMoved when a lot no longer holds its pick
    return view
"""

from common.errors import Conflict

MAX_ATTEMPTS = 20


class StockMoved(Exception):  # noqa: N818 (a signal between a store and its verb, not an error)
    """A lot held less than planned when it was decremented: another verb took the stock first."""


class _Attempt:
    """One attempt's context: a StockMoved inside it is swallowed (its transaction has rolled back) to plan again."""

    def __init__(self):
        self.succeeded = False

    def __enter__(self):
        return self

    def __exit__(self, kind, _error, _traceback) -> bool:
        self.succeeded = kind is None
        return kind is not None and issubclass(kind, StockMoved)


def stock_attempts(limit: int = MAX_ATTEMPTS):
    """Yield attempts until one ends without StockMoved (a `return` inside it ends the loop too); 409 after
    `limit` lost races in a row."""
    for _ in range(limit):
        attempt = _Attempt()
        yield attempt
        if attempt.succeeded:
            return
    raise Conflict("Stock kept changing under this request; send it again", code="STOCK_BUSY")
