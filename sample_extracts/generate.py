"""`generate`: the whole landing zone for one set of options, streamed month by month."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ingest.contract import entity
from sample_extracts import billing, corrections, crm, crm_changes, settlement
from sample_extracts.accounts import AccountBook, build_account_book
from sample_extracts.calendar import ExtractCalendar
from sample_extracts.counters import IdCounter
from sample_extracts.defects import DefectInjector
from sample_extracts.fx import FxTable, build_fx
from sample_extracts.landing import LandingWriter
from sample_extracts.options import GenerationSummary, GeneratorError, GeneratorOptions
from sample_extracts.seeds import rng_for

Progress = Callable[[str], None]


def generate(options: GeneratorOptions, progress: Progress | None = None) -> GenerationSummary:
    """Write `<out>/<source>/<YYYY-MM-DD>/<entity>.csv` (+ `_SUCCESS`) and `<out>/_defects.json`.
    The output depends only on the options: same options -> byte-identical files."""
    say = progress or (lambda _msg: None)
    options.validate()
    out = _prepare(Path(options.out))
    cal = ExtractCalendar.from_options(options.start, options.months, options.days)
    book = build_account_book(cal, options.accounts, options.skew, options.seed)
    fx = build_fx(cal, options.seed)
    ids = IdCounter()
    summary = GenerationSummary(out=out)
    writer = LandingWriter(out, cal)
    try:
        writer.add(entity("billing", "fx_rates"), fx.table())
        _write_crm(writer, book, cal, options.seed, ids)
        for m in range(cal.months + 1):
            _write_month(writer, book, cal, fx, m, options.seed, ids)
            say(f"month {m + 1}/{cal.months + 1} written")
        deltas = writer.delta_files()
        records: list[dict[str, object]] = []
        if options.defects > 0:
            records = DefectInjector(deltas, cal.days, options.defects,
                                     rng_for(options.seed, "defects")).inject()
        writer.finish(deltas, summary)
    finally:
        writer.close()
    summary.defects = dict(Counter(str(r["class"]) for r in records))
    manifest = {"seed": options.seed, "rate": options.defects, "defects": records}
    (out / "_defects.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    (out / GENERATOR_STAMP).write_text(json.dumps(_options_record(options), indent=1) + "\n", encoding="utf-8")
    say(f"wrote {len(summary.folders)} day folders, {sum(summary.rows.values())} rows, "
        f"{len(records)} defects to {out}")
    return summary


#: written last: the options a complete landing zone was generated with
GENERATOR_STAMP = "_generator.json"


def _options_record(options: GeneratorOptions) -> dict[str, object]:
    return {k: v for k, v in dataclasses.asdict(options).items() if k != "out"}


def already_generated(options: GeneratorOptions) -> bool:
    """True when `options.out` holds a complete landing zone generated with exactly these options
    (so `make demo` can run again without rewriting the landing zone)."""
    stamp = Path(options.out) / GENERATOR_STAMP
    if not stamp.is_file():
        return False
    return json.loads(stamp.read_text(encoding="utf-8")) == _options_record(options)


def _prepare(out: Path) -> Path:
    if out.exists() and any(out.iterdir()):
        raise GeneratorError(f"output folder {out} is not empty; remove it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    return out.resolve()


def _write_crm(writer: LandingWriter, book: AccountBook, cal: ExtractCalendar, seed: int,
               ids: IdCounter) -> None:
    accounts = crm.accounts(book, cal, rng_for(seed, "crm-accounts"))
    contacts = crm.contacts(book, cal, rng_for(seed, "crm-contacts"), ids)
    opps = crm.opportunities(book, cal, rng_for(seed, "crm-opportunities"), ids)
    changes = rng_for(seed, "crm-changes")
    writer.add(entity("crm", "accounts"), accounts)
    writer.add(entity("crm", "accounts"), crm_changes.account_changes(book, accounts, cal, changes))
    writer.add(entity("crm", "contacts"), contacts)
    writer.add(entity("crm", "contacts"), crm_changes.contact_changes(contacts, cal, changes))
    writer.add(entity("crm", "opportunities"), opps)
    writer.add(entity("crm", "opportunities"), crm_changes.opportunity_changes(opps, cal, changes))


def _write_month(writer: LandingWriter, book: AccountBook, cal: ExtractCalendar, fx: FxTable, m: int,
                 seed: int, ids: IdCounter) -> None:
    rng = rng_for(seed, "billing", m)
    rank = book.size_rank()
    inv = billing.month_invoices(book, rank, cal, fx, m, rng, ids)
    corrections.mark_late_arrivals(inv, cal, m, rng)
    pays = settlement.payments(inv, book, m, rng, ids)
    notes = settlement.credit_notes(inv, rng, ids)
    if m == cal.months - 1:
        resent, voided = corrections.resend_invoices(inv, cal, rng)
        writer.add(entity("billing", "invoices"), resent)
        writer.add(entity("billing", "invoice_lines"), corrections.resend_lines(inv, cal, rng, voided))
        pays = corrections.drop_for_invoices(pays, voided)
        notes = corrections.drop_for_invoices(notes, voided)
    writer.add(entity("billing", "invoices"), inv.invoice_table())
    writer.add(entity("billing", "invoice_lines"), inv.line_table())
    writer.add(entity("billing", "payments"), pays)
    writer.add(entity("billing", "credit_notes"), notes)
    writer.add(entity("crm", "activities"),
               crm.month_activities(book, rank, cal, m, rng_for(seed, "activities", m), ids))
