"""Parse GS1 element strings scanned from drug-pack DataMatrix codes (GTIN, expiry, lot, serial): `parse_gs1` for
the API's `gs1` field, `read_scan` for a keyboard-wedge scan whose group separators may have been dropped.

Accepted inputs:
- the raw element string with FNC1 as the ASCII group separator ``\\x1d`` after variable-length fields,
  optionally prefixed by a GS1 symbology identifier (``]d2`` DataMatrix, ``]C1`` GS1-128, ``]Q3`` QR, ``]e0``
  DataBar, ``]J1`` DotCode) and/or a leading ``\\x1d``;
- the human-readable form with parenthesised AIs: ``(01)08936...(17)271231(10)LOT1(21)SER``. Because ``(`` and ``)``
  are legal in lot/serial values, a value containing ``(NN)`` is ambiguous in that form; scanners send the raw form.

Supported AIs: 01 GTIN-14 (check digit verified), 10 lot, 21 serial (both up to 20 characters of GS1 character
set 82), 11 production date, 15 best-before date, 17 expiry date. Day ``00`` means the last day of the month, and the
two-digit year follows the GS1 General Specifications sliding century window. Anything else raises ``GS1Error``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

GS = "\x1d"
GS1_SYMBOLOGY_IDS = ("]d2", "]C1", "]Q3", "]e0", "]J1")

# AI → (result key, length, variable length?). All supported AIs happen to be two digits long.
AI_SPECS: dict[str, tuple[str, int, bool]] = {
    "01": ("gtin", 14, False),
    "10": ("lot_number", 20, True),
    "11": ("produced_on", 6, False),
    "15": ("best_before", 6, False),
    "17": ("expires_on", 6, False),
    "21": ("serial", 20, True),
}
DATE_AIS = {"11", "15", "17"}
RESULT_KEYS = ("gtin", "expires_on", "lot_number", "serial", "produced_on", "best_before")

CHARSET_82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+")
HRI_AI = re.compile(r"\((\d{2,4})\)")


class GS1Error(ValueError):
    """Raised when a scanned GS1 element string is malformed or unsupported."""


def gtin_check_digit(data: str) -> int:
    """Return the GS1 mod-10 check digit of the digits preceding it."""
    # Weights alternate 3,1,... starting from the digit next to the check digit.
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(data)))
    return (10 - total % 10) % 10


def _parse_gtin(value: str) -> str:
    """Validate a GTIN-14 and return it."""
    if len(value) != 14 or not value.isascii() or not value.isdigit():
        raise GS1Error(f"AI (01) GTIN must be 14 digits, got {value!r}")
    expected = gtin_check_digit(value[:13])
    if int(value[13]) != expected:
        raise GS1Error(f"AI (01) GTIN {value} has check digit {value[13]}, expected {expected}")
    return value


def _parse_date(ai: str, value: str, today: date) -> date:
    """Convert a GS1 YYMMDD date (day 00 = last day of the month) to a date."""
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise GS1Error(f"AI ({ai}) date must be YYMMDD, got {value!r}")
    yy, month, day = int(value[:2]), int(value[2:4]), int(value[4:])
    # GS1 General Specifications 7.12: a window of 49 years back / 50 years ahead of the current year.
    current_century, current_yy = divmod(today.year, 100)
    diff = yy - current_yy
    century = current_century
    if 51 <= diff <= 99:
        century -= 1
    elif -99 <= diff <= -50:
        century += 1
    year = century * 100 + yy
    if not 1 <= month <= 12:
        raise GS1Error(f"AI ({ai}) date {value!r} has invalid month {month:02d}")
    if day == 0:
        day = calendar.monthrange(year, month)[1]
    try:
        return date(year, month, day)
    except ValueError:
        raise GS1Error(f"AI ({ai}) date {value!r} is not a valid calendar date") from None


def _convert(ai: str, value: str, today: date) -> str | date:
    """Validate one AI value and convert it to its result type."""
    key, length, _ = AI_SPECS[ai]
    if ai == "01":
        return _parse_gtin(value)
    if ai in DATE_AIS:
        return _parse_date(ai, value, today)
    if not value:
        raise GS1Error(f"AI ({ai}) {key} is empty")
    if len(value) > length:
        raise GS1Error(f"AI ({ai}) {key} is {len(value)} characters, max {length} (missing group separator?)")
    if not CHARSET_82.fullmatch(value):
        raise GS1Error(f"AI ({ai}) {key} {value!r} contains characters outside GS1 character set 82")
    return value


def _split_raw(text: str) -> list[tuple[str, str]]:
    """Split a raw FNC1-separated element string into (AI, value) pairs."""
    pairs = []
    pos = 0
    while pos < len(text):
        ai = text[pos:pos + 2]
        if ai not in AI_SPECS:
            raise GS1Error(f"unknown or unsupported AI {ai!r} at position {pos} of the element string")
        _, length, variable = AI_SPECS[ai]
        start = pos + 2
        if variable:
            end = text.find(GS, start)
            end = len(text) if end == -1 else end
        else:
            end = start + length
            if end > len(text):
                raise GS1Error(f"AI ({ai}) needs {length} characters, only {len(text) - start} left")
        pairs.append((ai, text[start:end]))
        pos = end
        # A separator after a fixed-length field is redundant but some encoders emit it.
        while pos < len(text) and text[pos] == GS:
            pos += 1
    return pairs


def _split_human_readable(text: str) -> list[tuple[str, str]]:
    """Split the '(AI)value(AI)value' form into (AI, value) pairs."""
    pieces = HRI_AI.split(text)
    if pieces[0].strip():
        raise GS1Error(f"unexpected text {pieces[0]!r} before the first (AI)")
    pairs = []
    for ai, value in zip(pieces[1::2], pieces[2::2], strict=True):
        if ai not in AI_SPECS:
            raise GS1Error(f"unknown or unsupported AI ({ai})")
        pairs.append((ai, value.strip()))
    return pairs


def _strip_prefix(text: str) -> str:
    """Remove trailing line ends, the symbology identifier and leading FNC1 separators."""
    text = text.rstrip("\r\n")
    if text.startswith("]"):
        if text[:3] not in GS1_SYMBOLOGY_IDS:
            raise GS1Error(f"symbology identifier {text[:3]!r} does not denote GS1 data")
        text = text[3:]
    return text.lstrip(GS)


def parse_gs1(text: str, *, today: date | None = None) -> dict:
    """Parse a scanned GS1 element string into gtin/expires_on/lot_number/serial (+ produced_on/best_before)."""
    body = _strip_prefix(text)
    if not body.strip():
        raise GS1Error("empty GS1 element string")
    pairs = _split_human_readable(body) if body.startswith("(") else _split_raw(body)
    today = today or date.today()
    result: dict = dict.fromkeys(RESULT_KEYS)
    seen: set[str] = set()
    for ai, value in pairs:
        if ai in seen:
            raise GS1Error(f"AI ({ai}) appears more than once")
        seen.add(ai)
        result[AI_SPECS[ai][0]] = _convert(ai, value, today)
    return result


@dataclass(frozen=True)
class Scan:
    """What a scanned pack says, as `read_scan` read it."""

    gtin: str | None
    expires_on: date | None
    lot_number: str | None
    serial: str | None
    separator_missing: bool  # a variable field ended where the next AI began: its group separator was dropped
    other_readings: int  # how many other readings fit as well (lot and serial split elsewhere): check by eye

    @property
    def complete(self) -> bool:
        """Tell whether the scan carries what a receipt needs: GTIN (01), expiry (17) and lot (10)."""
        return bool(self.gtin and self.expires_on and self.lot_number)

    def element_string(self) -> str:
        """Write the scan back as a raw element string with every separator in place (what parse_gs1 reads)."""
        return element_string(self.gtin, self.expires_on, self.lot_number, self.serial)


def element_string(gtin: str | None, expires_on: date | None, lot_number: str | None, serial: str | None) -> str:
    """Write GTIN, expiry, lot and serial as a raw element string: fixed-length AIs first, a group separator
    after each variable-length field that another follows."""
    fixed = (f"01{gtin}" if gtin else "") + (f"17{expires_on:%y%m%d}" if expires_on else "")
    variable = [f"{ai}{value}" for ai, value in (("10", lot_number), ("21", serial)) if value]
    return fixed + GS.join(variable)


Reading = tuple[tuple[tuple[str, str], ...], frozenset[str]]  # (AI, value) pairs; the AIs that ended early


def _readings(run: str, today: date) -> list[Reading]:
    """Every way to read one separator-free run of element data as (AI, value) pairs, each AI once.

    A fixed-length AI takes its length and must be valid (GTIN check digit, a calendar date); a variable-length
    one takes 1 to its maximum length, ending at the end of the run or where another AI reads on (its separator
    was dropped: it "ended early"). Readings with shorter variable values come first.
    """
    found: list[Reading] = []

    def walk(position: int, pairs: tuple[tuple[str, str], ...], early: frozenset[str]) -> None:
        if position == len(run):
            found.append((pairs, early))
            return
        ai = run[position:position + 2]
        if ai not in AI_SPECS or any(seen == ai for seen, _ in pairs):
            return
        _key, length, variable = AI_SPECS[ai]
        start = position + 2
        if not variable:
            value = run[start:start + length]
            try:
                _convert(ai, value, today)
            except GS1Error:
                return
            walk(start + length, (*pairs, (ai, value)), early)
            return
        for end in range(start + 1, min(len(run), start + length) + 1):
            if not CHARSET_82.fullmatch(run[end - 1]):
                return
            walk(end, (*pairs, (ai, run[start:end])), early | {ai} if end < len(run) else early)

    walk(0, (), frozenset())
    return found


def read_scan(text: str, *, known_lots=(), today: date | None = None) -> Scan:
    """Read a keyboard-wedge scan of a drug pack: raw (separators kept or dropped) or the (AI) form.

    Where the group separator after a lot or serial was dropped, every split that reads as valid GS1 is
    considered; a reading that carries GTIN, expiry and lot wins, then one whose lot is already on file
    (`known_lots`: a further delivery), then the one with the most AIs, then the shortest lot.
    `other_readings` says how many readings fitted as well, for the screen to ask the person to check.
    Raises GS1Error when nothing fits.
    """
    today = today or date.today()
    body = _strip_prefix(text.strip(" \t\r\n")).strip(" \t\r\n")
    if not body:
        raise GS1Error("empty GS1 element string")
    if body.startswith("("):
        parsed = parse_gs1(body, today=today)
        return Scan(parsed["gtin"], parsed["expires_on"], parsed["lot_number"], parsed["serial"], False, 0)
    combined: list[Reading] = [((), frozenset())]
    for run in (run for run in body.split(GS) if run):
        combined = [(pairs + more, early | more_early) for pairs, early in combined
                    for more, more_early in _readings(run, today)
                    if not {ai for ai, _ in pairs} & {ai for ai, _ in more}]
    if not combined:
        parse_gs1(body, today=today)  # raises its own precise reason (check digit, date, unknown AI...)
        raise GS1Error("the scanned text does not read as GS1 element data")
    known = set(known_lots)

    def rank(reading: Reading) -> tuple:
        values = dict(reading[0])
        return {"01", "17", "10"} <= set(values), values.get("10") in known, len(values)

    best = max(combined, key=rank)  # the first of equals: the shortest lot
    values = dict(best[0])
    return Scan(gtin=values.get("01"), expires_on=_convert("17", values["17"], today) if "17" in values else None,
                lot_number=values.get("10"), serial=values.get("21"), separator_missing=bool(best[1]),
                other_readings=sum(1 for reading in combined if rank(reading) == rank(best)) - 1)
