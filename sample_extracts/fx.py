"""Daily FX rates (CNY per unit) for every day from the history start to the last extract day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sample_extracts import vocab
from sample_extracts.calendar import DAY, ExtractCalendar
from sample_extracts.seeds import rng_for

RATE_SCALE = 6  # decimals written for rate_to_reporting


@dataclass(frozen=True)
class FxTable:
    first_day: np.datetime64
    rates: dict[str, np.ndarray]  # currency -> CNY per unit, one per day from first_day

    def rate(self, currency: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Rate of each (currency, day); 1.0 for CNY."""
        offset = (days.astype("datetime64[D]") - self.first_day).astype(np.int64)
        out = np.ones(len(days))
        for code, series in self.rates.items():
            hit = currency == code
            out[hit] = series[np.clip(offset[hit], 0, len(series) - 1)]
        return out

    def table(self) -> pa.Table:
        """fx_rates rows (rate_to_reporting scaled to integer micro-units), by currency then date."""
        n = len(next(iter(self.rates.values())))
        dates = self.first_day + np.arange(n) * DAY
        codes = list(self.rates)
        return pa.table({
            "rate_date": pa.array(np.tile(dates, len(codes))),
            "currency": pa.array(np.repeat(codes, n)),
            "rate_to_reporting": pa.array(
                np.concatenate([np.round(self.rates[c] * 10**RATE_SCALE) for c in codes]).astype(np.int64)),
            "_changed_at": pa.array(np.tile(dates, len(codes)).astype("datetime64[s]")),
        })


def build_fx(cal: ExtractCalendar, seed: int) -> FxTable:
    rng = rng_for(seed, "fx")
    n = int((cal.horizon_end - cal.start) / DAY) + 1  # horizon, not end_day: extendable books
    rates = {}
    for code, base in vocab.FX_BASE.items():
        walk = np.cumsum(rng.normal(0.0, vocab.FX_VOL, n))
        rates[code] = np.round(base * np.exp(walk - walk.mean() * 0.5), RATE_SCALE)
    return FxTable(cal.start, rates)
