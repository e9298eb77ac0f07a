"""Cells are data: text that a spreadsheet would run as a formula is written as text (OWASP CSV /
formula-injection rule: a string starting with =, +, -, @, tab or carriage return)."""

from __future__ import annotations

import unicodedata

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def csv_text(text: str) -> str:
    """The CSV value of a string: a leading quote makes Excel / LibreOffice read a formula-like string as
    text (the OWASP rule); anything else is unchanged."""
    return "'" + text if is_formula_like(text) else text


def display_width(text: str) -> int:
    """Width in character cells as a spreadsheet shows it: East-Asian wide / full-width characters
    (Chinese names) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
