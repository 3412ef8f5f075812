"""Integer-đồng money helpers: exact decimal arithmetic with half-up rounding, never binary floating point."""

from decimal import ROUND_HALF_UP, Decimal, localcontext

__all__ = ["percent_of", "round_half_up"]


def _exact(value: object, name: str) -> Decimal:
    """Convert an int or finite Decimal to Decimal, rejecting floats, bools and other types."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"{name} must be an int or Decimal, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value}")
    return result


def round_half_up(value: Decimal | int) -> int:
    """Round a Decimal to the nearest integer, halves away from zero."""
    return int(_exact(value, "value").to_integral_value(rounding=ROUND_HALF_UP))


def percent_of(amount: int, percent: int | Decimal) -> int:
    """Return amount × percent / 100 in integer đồng, rounded half-up."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int (đồng), got {type(amount).__name__}")
    with localcontext() as ctx:
        ctx.prec = 60  # exact for any realistic amount: đồng totals have far fewer than 50 digits
        return round_half_up(Decimal(amount) * _exact(percent, "percent") / 100)
