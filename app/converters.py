"""Whole numbers read from addresses, query strings and forms: ASCII digits only, within the database's range.

Python's `int()` and the regular expression `\\d` accept any script's digits ("١" is read as 1) and
numbers of any size, which overflow a database integer or a float comparison. Everything a person
sends is read through here instead, so "/admin/users/١" is not a page and a 309-digit step is bad input.
"""

import re

from werkzeug.routing import IntegerConverter, ValidationError
from wtforms import IntegerField

from app.models.types import MAX_ID

#: Digits of the largest id: a longer run of digits cannot be an id, whatever its value.
MAX_DIGITS = len(str(MAX_ID))
_WHOLE = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}")
_DIGITS = re.compile(r"-?[0-9]+")


def whole_number(raw: object) -> int:
    """`raw` as an int written in ASCII digits (an optional minus first) of at most MAX_ID; ValueError otherwise."""
    text = raw.strip() if isinstance(raw, str) else raw
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        raise ValueError(f"not a whole number: {str(raw)[:20]!r}")
    value = int(text)
    if abs(value) > MAX_ID:
        raise ValueError(f"out of range: {value}")
    return value


def page_number(raw: object) -> int:
    """A page number from a query string: ASCII digits (a minus first allowed), a number beyond the
    database's range brought to its edge so the view can show the nearest page; ValueError otherwise.

    Fits `request.args.get("page", 1, type=page_number)`, which falls back to the default.
    """
    text = raw.strip() if isinstance(raw, str) else raw
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        raise ValueError(f"not a page number: {str(raw)[:20]!r}")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("-").lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:  # past the largest id (and int() refuses a very long string outright)
        return sign * MAX_ID
    return sign * min(int(digits), MAX_ID)


def positive_number(raw: object) -> int:
    """`raw` as a whole number from 1 to MAX_ID (a page, a position, an id); ValueError otherwise.

    Fits `request.args.get(name, default, type=positive_number)`, which falls back to the default.
    """
    value = whole_number(raw)
    if value < 1:
        raise ValueError(f"not above zero: {value}")
    return value


class IdConverter(IntegerConverter):
    """The `int` converter of the app's routes: ASCII digits only, at most the largest id (else 404)."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        """The number, or ValidationError (no such address) when it cannot be a database id."""
        if len(value.lstrip("-0")) > MAX_DIGITS:
            raise ValidationError()
        number = super().to_python(value)
        if not -MAX_ID <= number <= MAX_ID:
            raise ValidationError()
        return number


class WholeNumberField(IntegerField):
    """A form's whole-number field that reads only ASCII digits in the database's range."""

    def process_formdata(self, valuelist):
        """Keep the number, or None with a message when it is not one we can use."""
        if not valuelist:
            return
        try:
            self.data = whole_number(valuelist[0])
        except ValueError as exc:
            self.data = None
            raise ValueError(self.invalid_value_message or "Give a whole number, written with the digits 0 to 9.") from exc
