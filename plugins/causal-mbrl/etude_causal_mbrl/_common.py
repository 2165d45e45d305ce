"""Small shared pieces: case-insensitive choices, fixed positions, validators."""

from __future__ import annotations

from typing import Any

from etude.config import FieldValueError

#: The reference's fixed cells of objects 0..9 in static mode (5 x 5 grid).
STATIC_POSITIONS = ((0, 0), (0, 4), (4, 0), (4, 4), (2, 2), (1, 1), (1, 3), (3, 1), (3, 3), (0, 2))
GRID = 5


def lower(value: Any) -> Any:
    """Converter: strings lower-cased (choices are case-insensitive, CausalMBRL#1)."""
    return value.lower() if isinstance(value, str) else value


def int_range(low: int, high: int):
    """Validator: an integer in [low, high]."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise FieldValueError(attribute.name, value, f"an integer in [{low}, {high}]")

    return check
