"""Defects that each break one GX check of the gate, shared by the DuckDB and PostgreSQL gate tests: the
same SQL breaks the same check with the same failure line on either engine."""

from __future__ import annotations

BAD_DATA: dict[str, tuple[str, str, str]] = {
    # scenario -> (check name, SQL that breaks it, text expected in the failure line)
    "quarantine_share": (
        "raw.quarantine_share",
        "UPDATE raw.load_manifest SET rows_quarantined = 8 WHERE entity = 'invoice_lines' "
        "AND extract_day = DATE '2025-03-10'",
        "raw.quarantine_share billing.invoice_lines 8.0% > 2%",
    ),
    "rejected_files": (
        "raw.rejected_files",
        "INSERT INTO raw.load_manifest VALUES ('billing/2025-03-11/invoices.csv', 'billing', 'invoices', "
        "DATE '2025-03-11', 0, 's', 0, NULL, 0, 0, 0, NULL, 'b', 'rejected', 'missing required column due_date', "
        "TIMESTAMP '2025-03-11 01:00:00')",
        "raw.rejected_files billing/2025-03-11/invoices.csv was rejected: missing required column due_date",
    ),
    "freshness": (
        "raw.freshness",
        "DELETE FROM raw.load_manifest WHERE source = 'crm' AND extract_day > DATE '2025-03-05'",
        "raw.freshness crm: latest loaded extract day 2025-03-05",
    ),
    "record_lost_in_staging": (
        "reconcile.raw_keys_in_staging",
        "DELETE FROM staging.stg_billing__invoices WHERE invoice_id = 'invoices-2'",
        "raw.billing__invoices holds 3 distinct keys (invoice_id) but staging.stg_billing__invoices has 2 rows",
    ),
    "record_doubled_in_staging": (
        "reconcile.raw_keys_in_staging",
        "INSERT INTO staging.stg_billing__fx_rates SELECT * FROM staging.stg_billing__fx_rates LIMIT 1",
        "raw.billing__fx_rates holds 3 distinct keys (rate_date, currency) but staging.stg_billing__fx_rates has 4",
    ),
}

#: a narrow night's reconciliation (reconcile.raw_keys_in_staging with the gate's `narrow_since`): the
#: invoices' first key loaded before the watermark, the other two after it
NARROW_LOADS = (
    "UPDATE raw.billing__invoices SET _loaded_at = CASE WHEN invoice_id = 'invoices-0' "
    "THEN TIMESTAMP '2025-03-01 02:00:00' ELSE TIMESTAMP '2025-03-11 02:00:00' END"
)
#: a key loaded after the watermark lost in staging: the narrow check reads it and fails with this line
NARROW_NEW_KEY_LOST = (
    "DELETE FROM staging.stg_billing__invoices WHERE invoice_id = 'invoices-1'",
    "raw.billing__invoices holds 2 distinct keys (invoice_id; loaded after 2025-03-10 00:00:00) but "
    "staging.stg_billing__invoices has 1 rows of them",
)
#: a key every version of which is older than the watermark (vouched for by the gate that passed there)
NARROW_OLD_KEY_LOST = "DELETE FROM staging.stg_billing__invoices WHERE invoice_id = 'invoices-0'"
