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
        if isinstance(key, bool) or not isinstance(key, int | str) or not _fits(key):
            raise ValidationError("Not a cursor given by this list.")
        return key


def _fits(key: int | str) -> bool:
    return 0 <= key <= INT8_MAX if isinstance(key, int) else len(key) <= 200


def encode_cursor(key: int | str) -> str:
    """Return the opaque cursor of a sort key."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode("ascii").rstrip("=")


class PagedQuerySchema(Schema):
    """The query of a list: how many rows at most (`limit`) and where to go on (`cursor`); subclasses add filters
    and may set their own `limit` default."""

    limit = page_limit(100)
    cursor = Cursor(load_default=None, metadata={"description": "where the previous page ended: its X-Next-Cursor",
                                                 "maxLength": MAX_CURSOR_LENGTH})


def page(selection: peewee.ModelSelect, key: peewee.Field, query: dict, *, descending: bool = True) -> list:
    """Run a list's query for one page, ordered by `key` (unique), and note the next page's cursor if any."""
    limit, cursor = query.get("limit", 100), query.get("cursor")
    if cursor is not None:
        if not isinstance(cursor, int if isinstance(key, peewee.IntegerField) else str):
            raise ValidationFailed("The cursor is not one of this list's", errors={"cursor": ["Not a cursor given "
                                                                                              "by this list."]})
        selection = selection.where(key < cursor if descending else key > cursor)
    rows = list(selection.order_by(key.desc() if descending else key.asc()).limit(limit + 1))
    if len(rows) > limit:
        rows = rows[:limit]
        g.next_cursor = encode_cursor(getattr(rows[-1], key.name))
    return rows


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

