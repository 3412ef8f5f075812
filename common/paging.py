"""Cursor paging, the same on every list of every service.

A list answers at most `limit` rows, as a JSON array as before. When more rows follow, the answer carries the
cursor of the next page in `X-Next-Cursor` and as a link, `Link: </same/path?...&cursor=...>; rel="next"`; a client
follows it until no next link comes. The cursor is opaque to clients: it holds the sort key of the last row given,
so a page starts right after it whatever was added meanwhile (newest-first lists show new rows on a fresh first
page, never twice).
"""

import base64
import binascii
import json
from datetime import date
from urllib.parse import urlencode

import peewee
from flask import g, request
from marshmallow import Schema, ValidationError

from common.bounds import INT8_MAX, Text, page_limit
from common.errors import ValidationFailed

NEXT_CURSOR_HEADER = "X-Next-Cursor"
MAX_CURSOR_LENGTH = 300


class Cursor(Text):
    """The `cursor` query parameter: where the previous page ended (from X-Next-Cursor or the next link)."""

    def _deserialize(self, value, attr, data, **kwargs):
        token = super()._deserialize(value, attr, data, **kwargs)
        if len(token) > MAX_CURSOR_LENGTH:
            raise ValidationError("Not a cursor given by this list.")
        try:
            key = json.loads(base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4)))
        except (UnicodeEncodeError, binascii.Error, ValueError):
            raise ValidationError("Not a cursor given by this list.") from None
        if isinstance(key, list) and len(key) == 2 and _fits(key[0]) and isinstance(key[1], int) and _fits(key[1]):
            return tuple(key)  # a list ordered by a column that repeats, then by its id
        if not _fits(key):
            raise ValidationError("Not a cursor given by this list.")
        return key


def _fits(key) -> bool:
    if isinstance(key, bool) or not isinstance(key, int | str):
        return False
    return 0 <= key <= INT8_MAX if isinstance(key, int) else len(key) <= 200


def encode_cursor(key: int | str | tuple) -> str:
    """Return the opaque cursor of a sort key (or of a sort value and the id after it)."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode("ascii").rstrip("=")


class PagedQuerySchema(Schema):
    """The query of a list: how many rows at most (`limit`) and where to go on (`cursor`); subclasses add filters
    and may set their own `limit` default."""

    limit = page_limit(100)
    cursor = Cursor(load_default=None, metadata={"description": "where the previous page ended: its X-Next-Cursor",
                                                 "maxLength": MAX_CURSOR_LENGTH})


def page(selection: peewee.ModelSelect, key: peewee.Field, query: dict, *, descending: bool = True,
         then: peewee.Field | None = None) -> list:
    """Run a list's query for one page, ordered by `key` (unique), and note the next page's cursor if any.

    A list ordered by a column whose values repeat (a name, a day) names its unique id as `then`: rows are ordered
    by `key`, then by `then`, in the same direction, and the cursor holds both values of the last row given. A key
    is an integer, a text or a day (not a time)."""
    limit, cursor = query.get("limit", 100), query.get("cursor")
    if cursor is not None:
        selection = selection.where(_after(key, then, _cursor_of(cursor, key, then), descending))
    order = [key.desc() if descending else key.asc()]
    if then is not None:
        order.append(then.desc() if descending else then.asc())
    rows = list(selection.order_by(*order).limit(limit + 1))
    if len(rows) > limit:
        rows = rows[:limit]
        last = _plain(getattr(rows[-1], key.name))
        g.next_cursor = encode_cursor(last if then is None else (last, getattr(rows[-1], then.name)))
    return rows


def _plain(value):
    """A sort value as a cursor holds it (a day as its ISO text)."""
    return value.isoformat() if isinstance(value, date) else value


def _cursor_of(cursor, key: peewee.Field, then: peewee.Field | None):
    """Check that a cursor is of this list's shape and return its value(s) as the columns compare them."""
    value = cursor[0] if isinstance(cursor, tuple) else cursor
    expected = int if isinstance(key, peewee.IntegerField) else str
    if isinstance(cursor, tuple) != (then is not None) or not isinstance(value, expected):
        raise ValidationFailed("The cursor is not one of this list's",
                               errors={"cursor": ["Not a cursor given by this list."]})
    if isinstance(key, peewee.DateField):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValidationFailed("The cursor is not one of this list's",
                                   errors={"cursor": ["Not a cursor given by this list."]}) from None
    return (value, cursor[1]) if then is not None else value


def _after(key: peewee.Field, then: peewee.Field | None, value, descending: bool):
    """The condition of the rows after the cursor's, in the list's order."""
    if then is None:
        return key < value if descending else key > value
    first, last_id = value
    if descending:
        return (key < first) | ((key == first) & (then < last_id))
    return (key > first) | ((key == first) & (then > last_id))


def add_next_link(response):
    """After a request that gave one page of a list, tell the client where the next one starts."""
    cursor = g.pop("next_cursor", None)
    if cursor is not None and response.status_code == 200:
        arguments = {name: value for name, value in request.args.items(multi=True) if name != "cursor"}
        arguments["cursor"] = cursor
        response.headers[NEXT_CURSOR_HEADER] = cursor
        # Relative (RFC 8288): right at the service and through the gateway alike, which serves the same path.
        response.headers.add("Link", f'<{request.path}?{urlencode(arguments)}>; rel="next"')
    return response

