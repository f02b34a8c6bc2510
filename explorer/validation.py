"""The one rule for numbers typed by a person or sent by a script, used by every tab and every endpoint.

A whole number is an int, a float with no fractional part, or text that reads as one in plain decimal
("12", " 12 ", "12.0", "-3"). Refused, with a Refusal naming the field: empty (None or blank), booleans (True is
not a digit), fractions ("1.5" is not silently rounded), exponents and other spellings ("1e2", "0x10"), NaN and
infinities, and values outside [low, high]. Seeds are whole numbers in [0, MAX_SEED] everywhere.
"""
from __future__ import annotations

import math
import re
from typing import Any

from .messages import Message, Refusal, define

MAX_SEED = 2**32 - 1  # numpy's and torch's generators both take it; one range for every seed in the app
_PLAIN = re.compile(r"^[+-]?\d+(\.0*)?$")

define({
    "number.empty": "{field} is empty: give a whole number from {low} to {high}",
    "number.not_whole": "{field} must be a whole number from {low} to {high}, got {value}",
    "number.out_of_range": "{field} must be between {low} and {high}, got {value}",
    "number.not_a_number": "{field} must be a number from {low} to {high}, got {value}",
    "field.seed": "seed",
})


def is_empty(value: Any) -> bool:
    """None or blank text: what an empty number box or a JSON null sends."""
    return value is None or (isinstance(value, str) and not value.strip())


def whole_number(value: Any, field: str | Message, low: int, high: int) -> int:
    """`value` as an int in [low, high] by the rule above; Refusal("number.empty" | "number.not_whole" |
    "number.out_of_range", field=..., low=..., high=..., value=...) otherwise. `field` names the box (a Message to
    have it translated)."""
    if is_empty(value):
        raise Refusal("number.empty", field=field, low=low, high=high)
    number = _as_whole(value)
    if number is None:
        raise Refusal("number.not_whole", field=field, low=low, high=high, value=_show(value))
    if not low <= number <= high:
        raise Refusal("number.out_of_range", field=field, low=low, high=high, value=number)
    return number


def real_number(value: Any, field: str | Message, low: float, high: float) -> float:
    """`value` as a finite float in [low, high] (ints, floats and plain decimal text; not booleans);
    Refusal("number.empty" | "number.not_a_number" | "number.out_of_range") otherwise."""
    if is_empty(value):
        raise Refusal("number.empty", field=field, low=_g(low), high=_g(high))
    number = None
    if not isinstance(value, bool):
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError, OverflowError):
            number = None
    if number is None or not math.isfinite(number):
        raise Refusal("number.not_a_number", field=field, low=_g(low), high=_g(high), value=_show(value))
    if not low <= number <= high:
        raise Refusal("number.out_of_range", field=field, low=_g(low), high=_g(high), value=_g(number))
    return number


def seed(value: Any, field: str | Message | None = None) -> int:
    """A seed: a whole number in [0, MAX_SEED]."""
    return whole_number(value, field if field is not None else Message("field.seed"), 0, MAX_SEED)


def _as_whole(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        return int(float(text)) if _PLAIN.match(text) else None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def _show(value: Any) -> str:
    """A refused value as the person typed it (text quoted, so an empty-looking value is visible)."""
    return repr(value.strip()) if isinstance(value, str) else (f"{value:g}" if isinstance(value, float) else
                                                               repr(value))


def _g(number: float) -> str:
    return f"{number:g}"
