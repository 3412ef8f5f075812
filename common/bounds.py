"""The hospital-scale ceilings of every number and text a request may carry, and the marshmallow fields that hold
them, declared once for the four services and the internal contracts.

Why these numbers (docs/decisions.md, "Issue 13 — input bounds"): every product and sum the code builds from
request values must stay far below the 64-bit columns (2⁶³ ≈ 9.2·10¹⁸) and every quantity or id far below the
32-bit ones (2³¹ ≈ 2.1·10⁹), so that nothing a client sends can make a later report overflow.
"""

import json
import operator
import re
from datetime import UTC, date, datetime
from itertools import accumulate, count

from marshmallow import ValidationError, fields, validate

from common.errors import ApiError

INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1

MAX_UNIT_PRICE = 1_000_000_000  # đồng per base unit (a price or a cost): 1 tỷ đ, above any drug vial or kit
MAX_LINE_QUANTITY = 100_000  # base units on one patient's line: prescribed, dispensed, charged, per recipe line
MAX_STOCK_QUANTITY = 100_000_000  # base units in one stock movement (receipt, count, adjustment) or in one lot
MAX_AMOUNT = MAX_LINE_QUANTITY * MAX_UNIT_PRICE  # 10¹⁴ đ: one line, payment, refund, lot cost or remittance row
MAX_ROWS_SUMMED = 90_000  # a sum of this many amounts at the ceiling still fits a 64-bit column
MIN_YEAR, MAX_YEAR = 1900, 2100
FIRST_DAY, LAST_DAY = date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)
FIRST_MOMENT = datetime(MIN_YEAR, 1, 1, tzinfo=UTC)
LAST_MOMENT = datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)  # a JSON string, its escapes included
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_OPENS_TWO = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
MAX_JSON_DEPTH = 32  # the deepest body the services take is 5 levels; RecursionError starts near 1,000
PERIOD_PATTERN = r"^(19\d\d|20\d\d|2100)-(0[1-9]|1[0-2])$"
NO_CONTROL_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
MULTILINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"  # tab, LF, CR allowed

assert MAX_STOCK_QUANTITY * 20 < INT4_MAX  # a lot at the ceiling, plus returns, stays an int4
assert MAX_AMOUNT * MAX_ROWS_SUMMED < INT8_MAX  # a bill, a batch or a report of 90,000 lines at the ceiling
assert MAX_STOCK_QUANTITY * MAX_UNIT_PRICE < INT8_MAX  # a lot's value at cost, computed in SQL per row

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff]")
_CONTROL_OR_BREAK = re.compile(r"[\u0000-\u001f\u007f-\u009f\ud800-\udfff]")


class Text(fields.String):
    """A string that refuses control characters (NUL included) and, for names, blank-only values.

    `multiline=True` lets tab, line feed and carriage return through (reasons, notes, addresses); `allowed` names
    further control characters a field takes (the GS1 group separator of a scanned code)."""

    def __init__(self, *args, multiline: bool = False, blank: bool = True, allowed: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.multiline, self.blank, self.allowed = multiline, blank, allowed

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        found = (_CONTROL if self.multiline else _CONTROL_OR_BREAK).findall(text)
        if any(character not in self.allowed for character in found):
            raise ValidationError("Must not contain control characters.")
        if not self.blank and text and not text.strip():
            raise ValidationError("Must not be blank.")
        return text


def text(maximum: int, minimum: int = 0, *, multiline: bool = False, pattern: str | None = None, **kwargs) -> Text:
    """A text field no longer than its column (`maximum` characters), free of control characters."""
    validators = [validate.Length(minimum, maximum)]
    if pattern:
        validators.append(validate.Regexp(pattern))
    else:
        kwargs.setdefault("metadata", {}).setdefault("pattern", MULTILINE_PATTERN if multiline else NO_CONTROL_PATTERN)
    return Text(validate=validators, multiline=multiline, **kwargs)


def code_text(regexp: validate.Regexp, maximum: int, **kwargs) -> Text:
    """A code field (reagent, drug, test, ICD-10...): its own pattern and its column's length."""
    return Text(validate=[validate.Length(1, maximum), regexp], **kwargs)


def name_text(maximum: int, minimum: int = 1, **kwargs) -> Text:
    """A name (person, product, supplier): 1..maximum characters, not blank, no control characters."""
    kwargs.setdefault("metadata", {}).setdefault("pattern", NO_CONTROL_PATTERN)
    return Text(validate=validate.Length(minimum, maximum), blank=False, **kwargs)


def printable(value: str, maximum: int) -> str:
    """Return untrusted text fit for a log or audit column: control characters dropped, cut to `maximum`."""
    return _CONTROL_OR_BREAK.sub("", value)[:maximum]


def integer(minimum: int, maximum: int, *, strict: bool = True, **kwargs) -> fields.Integer:
    """A whole number within [minimum, maximum]; strict (JSON integers only) except in query strings."""
    return fields.Integer(strict=strict, validate=validate.Range(minimum, maximum), **kwargs)


def money(minimum: int = 0, maximum: int = MAX_AMOUNT, **kwargs) -> fields.Integer:
    """An amount of đồng: a JSON integer (never a float or a string), 0..MAX_AMOUNT by default."""
    return integer(minimum, maximum, **kwargs)


def unit_price(**kwargs) -> fields.Integer:
    """Đồng per base unit (a price or a cost), 0..MAX_UNIT_PRICE."""
    return integer(0, MAX_UNIT_PRICE, **kwargs)


def line_quantity(minimum: int = 1, **kwargs) -> fields.Integer:
    """Base units on one patient's line or recipe line, minimum..MAX_LINE_QUANTITY."""
    return integer(minimum, MAX_LINE_QUANTITY, **kwargs)


def stock_quantity(minimum: int = 1, **kwargs) -> fields.Integer:
    """Base units of one stock movement or one lot, minimum..MAX_STOCK_QUANTITY."""
    return integer(minimum, MAX_STOCK_QUANTITY, **kwargs)


def row_id(*, strict: bool = True, **kwargs) -> fields.Integer:
    """The id of a row (a 32-bit serial column): 1..2³¹−1."""
    return integer(1, INT4_MAX, strict=strict, **kwargs)


def page_limit(default: int, maximum: int = 1000) -> fields.Integer:
    """How many rows a list answers at most (a query parameter)."""
    return integer(1, maximum, strict=False, load_default=default)


def day(**kwargs) -> fields.Date:
    """A calendar date between 1900-01-01 and 2100-12-31."""
    return fields.Date(validate=validate.Range(FIRST_DAY, LAST_DAY, error="Must lie between 1900 and 2100."), **kwargs)


def moment(**kwargs) -> fields.AwareDateTime:
    """An ISO 8601 time with its zone, between 1900 and 2100."""
    kwargs.setdefault("format", "iso")
    return fields.AwareDateTime(validate=validate.Range(FIRST_MOMENT, LAST_MOMENT,
                                                        error="Must lie between 1900 and 2100."), **kwargs)


def period_text(**kwargs) -> Text:
    """A month written YYYY-MM, between 1900-01 and 2100-12."""
    kwargs.setdefault("metadata", {}).setdefault("example", "2026-11")
    return Text(validate=validate.Regexp(PERIOD_PATTERN, error="Use YYYY-MM between 1900-01 and 2100-12."),
                **kwargs)


def date_range_problems(start: date | None, end: date | None) -> dict:
    """Return {field: message} when a report's `from` lies after its `to` (nothing when in order)."""
    if start and end and start > end:
        return {"to": ["Must not lie before 'from'."]}
    return {}


def ensure_within(value: int, maximum: int, what: str, code: str = "LIMIT_EXCEEDED") -> None:
    """Refuse with 422 a computed quantity or amount (a lot's content, a receipt's cost) past its ceiling."""
    if value > maximum:
        raise ApiError(f"{what} would be {value:,}, above the ceiling of {maximum:,}", code=code, status=422,
                       maximum=maximum)


def json_depth_exceeds(data: bytes, maximum: int = MAX_JSON_DEPTH) -> bool:
    """Tell whether a JSON text nests arrays and objects deeper than `maximum`, without parsing it."""
    if data.count(b"[") + data.count(b"{") <= maximum:
        return False  # cannot nest deeper than it has brackets: the common case costs two C-speed scans
    brackets = _STRING.sub(b"", data).translate(_OPENS_TWO, _NOT_BRACKETS)  # [ { -> 2, ] } -> 0, the rest out
    # after k brackets the depth is (twice the opens so far) - k: the running sum less the count, all at C speed
    return max(map(operator.sub, accumulate(brackets), count(1)), default=0) > maximum


def load_json(data: bytes):
    """Parse a JSON body, refusing with 400 MALFORMED_JSON what is not JSON or nests too deep to parse safely."""
    if json_depth_exceeds(data):
        raise ApiError(f"The request body nests deeper than {MAX_JSON_DEPTH} levels", code="MALFORMED_JSON",
                       status=400)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ApiError(f"The request body is not valid JSON: {exc}", code="MALFORMED_JSON", status=400) from None
