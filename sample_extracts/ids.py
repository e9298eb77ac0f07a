"""How integer surrogate numbers are printed as the extract's string keys."""

from __future__ import annotations

#: column -> (prefix, digits); e.g. account 12 -> A000012
ID_FORMATS: dict[str, tuple[str, int]] = {
    "account_id": ("A", 6),
    "parent_account_id": ("A", 6),
    "merged_into_account_id": ("A", 6),
    "invoice_id": ("INV", 9),
    "invoice_line_id": ("IL", 10),
    "credit_note_id": ("CN", 8),
    "payment_id": ("PAY", 9),
    "contact_id": ("CT", 8),
    "opportunity_id": ("OPP", 8),
    "activity_id": ("ACT", 10),
}
#: account number used for references to an account that does not exist (defect injection)
UNKNOWN_ACCOUNT = 999_999


def format_id(column: str, number: int) -> str:
    prefix, digits = ID_FORMATS[column]
    return f"{prefix}{number:0{digits}d}"
