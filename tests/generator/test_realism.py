"""The generated book looks like a real key-account book and is referentially sound when clean."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from generator_test_support import day_folders, decode, latest, read_entity_file, rows_by_folder
from openpyxl import load_workbook

from ingest.contract import entity
from sample_extracts import GeneratorOptions, generate

HISTORY_END = "2025-01-01"  # 2023-01 + 24 months
T12M_START = "2024-01-01"


def _rates(root: Path) -> dict[str, list[tuple[str, float]]]:
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for _, rows in rows_by_folder(root, "billing", "fx_rates"):
        for r in rows:
            out[r["currency"]].append((r["rate_date"], float(r["rate_to_reporting"])))
    return {c: sorted(v) for c, v in out.items()}


def _rate_on(rates: dict[str, list[tuple[str, float]]], currency: str, day: str) -> float:
    if currency == "CNY":
        return 1.0
    return [rate for d, rate in rates[currency] if d <= day][-1]


def _t12m_revenue(root: Path) -> dict[str, float]:
    """Line amounts of issued invoices dated in the last 12 history months, in CNY, by account."""
    invoices = latest(root, "billing", "invoices", "invoice_id")
    rates = _rates(root)
    revenue: dict[str, float] = defaultdict(float)
    for line in latest(root, "billing", "invoice_lines", "invoice_line_id").values():
        inv = invoices[line["invoice_id"]]
        if inv["status"] == "issued" and T12M_START <= inv["invoice_date"] < HISTORY_END:
            revenue[inv["account_id"]] += float(line["amount"]) * _rate_on(rates, inv["currency"], inv["invoice_date"])
    return revenue


def _top20_share(values: list[float]) -> float:
    active = sorted((v for v in values if v > 0), reverse=True)
    return sum(active[: math.ceil(0.2 * len(active))]) / sum(active)


def _group_of(accounts: dict[str, dict[str, str]], account_id: str) -> str:
    a = accounts[account_id]["merged_into_account_id"] or account_id
    while accounts[a]["parent_account_id"]:
        a = accounts[a]["parent_account_id"]
    return a


def test_revenue_is_concentrated_like_a_key_account_book(clean_run) -> None:
    """Default skew: top 20% of active accounts carry ~80% of t12m revenue; more at group level."""
    root, _ = clean_run
    revenue = _t12m_revenue(root)
    accounts = latest(root, "crm", "accounts", "account_id")
    groups: dict[str, float] = defaultdict(float)
    for account_id, value in revenue.items():
        groups[_group_of(accounts, account_id)] += value
    account_share = _top20_share(list(revenue.values()))
    assert 0.68 <= account_share <= 0.92
    assert _top20_share(list(groups.values())) > account_share


def test_skew_option_tunes_concentration(tmp_path: Path) -> None:
    """A low skew gives a flatter book than the default."""
    generate(GeneratorOptions(out=tmp_path, accounts=60, months=24, seed=7, days=1, skew=0.3))
    assert _top20_share(list(_t12m_revenue(tmp_path).values())) < 0.5


def test_hierarchy_depth_at_most_three_and_acyclic(clean_run) -> None:
    """After applying all CRM deltas, every parent chain ends within 3 levels and no cycle exists;
    merges point at accounts that are not merged themselves."""
    root, _ = clean_run
    accounts = latest(root, "crm", "accounts", "account_id")
    depths = []
    for account_id in accounts:
        seen, a = [account_id], account_id
        while accounts[a]["parent_account_id"]:
            a = accounts[a]["parent_account_id"]
            assert a not in seen, f"cycle through {a}"
            seen.append(a)
        depths.append(len(seen))
        survivor = accounts[account_id]["merged_into_account_id"]
        if survivor:
            assert not accounts[survivor]["merged_into_account_id"]
    assert max(depths) == 3


def test_crm_attributes_cover_the_domain(clean_run) -> None:
    """All four customer_types, merges, several industries/regions/segments, budgets, Chinese names."""
    root, _ = clean_run
    accounts = list(latest(root, "crm", "accounts", "account_id").values())
    assert {a["customer_type"] for a in accounts} == set(entity("crm", "accounts").column("customer_type").enum)
    assert any(a["merged_into_account_id"] for a in accounts)
    assert len({a["industry"] for a in accounts}) >= 5 and len({a["segment"] for a in accounts}) == 3
    assert any(a["account_name"].endswith("有限公司") for a in accounts)
    assert sum(bool(a["account_manager"]) for a in accounts) > 0.9 * len(accounts)
    assert all(a["estimated_annual_budget"] == "" or float(a["estimated_annual_budget"]) > 0 for a in accounts)
    activities = read_entity_file(root / "crm" / "2025-01-01", "activities")
    assert "executive_visit" in {a["activity_type"] for a in activities}
    contacts = read_entity_file(root / "crm" / "2025-01-01", "contacts")
    assert all("@" in c["email"] for c in contacts if c["email"])


def test_accounts_start_churn_and_come_back(clean_run) -> None:
    """Monthly revenue shows new accounts, churned accounts and reactivations after zero months."""
    root, _ = clean_run
    invoices = latest(root, "billing", "invoices", "invoice_id").values()
    months: dict[str, set[str]] = defaultdict(set)
    for inv in invoices:
        if inv["status"] == "issued" and inv["invoice_date"] < HISTORY_END:
            months[inv["account_id"]].add(inv["invoice_date"][:7])
    all_months = sorted({m for ms in months.values() for m in ms})
    starts_late = [a for a, ms in months.items() if min(ms) > all_months[2]]
    stops_early = [a for a, ms in months.items() if max(ms) < all_months[-3]]
    comebacks = [a for a, ms in months.items()
                 if any(all_months[i] in ms and all_months[i + 1] not in ms and all_months[i + 2] not in ms
                        and any(m > all_months[i + 2] for m in ms) for i in range(len(all_months) - 2))]
    assert starts_late and stops_early and comebacks


def test_line_kinds_credit_notes_voids_and_late_arrivals(clean_run) -> None:
    """One-off, monthly, annual prepaid and partial-month lines; credit notes with and without
    invoice_id; void invoices; invoices dated in the history that arrive only in a delta folder;
    invoices re-sent with a later updated_at and changed values."""
    root, _ = clean_run
    lines = read_entity_file(root / "billing" / "2025-01-01", "invoice_lines")
    kinds = set()
    for line in lines:
        s, e = line["service_start"], line["service_end"]
        kinds.add("one_off" if s == e else "annual" if e[:4] > s[:4] and e[5:7] == f"{(int(s[5:7]) - 2) % 12 + 1:02d}"
                  else "whole_month" if s.endswith("-01") and e[:7] == s[:7] else "partial")
    assert kinds == {"one_off", "annual", "whole_month", "partial"}
    notes = read_entity_file(root / "billing" / "2025-01-01", "credit_notes")
    assert any(n["invoice_id"] == "" for n in notes) and any(n["invoice_id"] for n in notes)
    initial = {r["invoice_id"]: r for r in read_entity_file(root / "billing" / "2025-01-01", "invoices")}
    assert any(r["status"] == "void" for r in initial.values())
    late, changed = [], []
    for day, rows in list(rows_by_folder(root, "billing", "invoices"))[1:]:
        for r in rows:
            if r["invoice_id"] not in initial and r["invoice_date"] < HISTORY_END:
                late.append(r)
            old = initial.get(r["invoice_id"])
            if old and r["updated_at"] > old["updated_at"] and (r["status"], r["due_date"]) != (old["status"], old["due_date"]):
                changed.append(day)
    assert late and changed


def test_crm_encodings_and_xlsx(clean_run) -> None:
    """CRM delta files come as UTF-8 with BOM and GB18030 on different days, accounts as xlsx on some
    days (readable by openpyxl, Chinese names intact); billing files are plain UTF-8."""
    root, _ = clean_run
    boms, gb = [], []
    for folder in day_folders(root, "crm"):
        for path in folder.glob("*.csv"):
            data = path.read_bytes()
            if data.startswith(b"\xef\xbb\xbf"):
                boms.append(path)
                data.decode("utf-8-sig")
            else:
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    gb.append(path)
                    assert "," in data.decode("gb18030")
    assert boms and gb
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in decode(p)) for p in gb)
    xlsx = sorted(root.glob("crm/*/accounts.xlsx"))
    assert xlsx
    ws = load_workbook(xlsx[0], read_only=True).active
    names = [row[1] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert names and any("公司" in (n or "") for n in names)
    for path in root.glob("billing/*/*.csv"):
        path.read_bytes().decode("utf-8")


def test_every_reference_resolves_on_clean_data(clean_run) -> None:
    """On clean data every account_id / invoice_id referenced exists in the same or an earlier folder,
    and every non-CNY invoice or credit note has an FX rate on or before its date."""
    root, _ = clean_run
    days = [f.name for f in day_folders(root, "billing")]
    accounts_seen: set[str] = set()
    invoices_seen: set[str] = set()
    rates = _rates(root)
    for day in days:
        crm, billing = root / "crm" / day, root / "billing" / day
        accounts_seen |= {a["account_id"] for a in read_entity_file(crm, "accounts")}
        invoices = read_entity_file(billing, "invoices")
        invoices_seen |= {i["invoice_id"] for i in invoices}
        for a in read_entity_file(crm, "accounts"):
            for ref in (a["parent_account_id"], a["merged_into_account_id"]):
                assert not ref or ref in accounts_seen
        for name in ("contacts", "opportunities", "activities"):
            assert {r["account_id"] for r in read_entity_file(crm, name)} <= accounts_seen, (day, name)
        for name in ("invoices", "credit_notes", "payments"):
            assert {r["account_id"] for r in read_entity_file(billing, name)} <= accounts_seen, (day, name)
        for name in ("invoice_lines", "credit_notes", "payments"):
            refs = {r["invoice_id"] for r in read_entity_file(billing, name)} - {""}
            assert refs <= invoices_seen, (day, name)
        for r in invoices + read_entity_file(billing, "credit_notes"):
            on = r.get("invoice_date") or r["credit_date"]
            assert _rate_on(rates, r["currency"], on) > 0
