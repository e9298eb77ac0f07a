"""Fake names: Chinese company names that follow the group hierarchy, English names for foreign
customers, people's names with pinyin e-mail addresses and phone numbers."""

from __future__ import annotations

import numpy as np

from sample_extracts import vocab


def _pick(rng: np.random.Generator, words: tuple[str, ...], n: int) -> np.ndarray:
    return np.array(words)[rng.integers(0, len(words), n)]


def _join(*parts: np.ndarray | str) -> np.ndarray:
    out = np.asarray(parts[0])
    for p in parts[1:]:
        out = np.char.add(out, p)
    return out


def company_names(rng: np.random.Generator, region: np.ndarray, industry: np.ndarray, level: np.ndarray,
                  parent: np.ndarray, currency: np.ndarray) -> np.ndarray:
    """e.g. 华东精密制造有限公司; group heads 集团有限公司; subsidiaries carry the group's stem:
    华东精密制造(苏州)有限公司, 华东精密制造南京分公司; foreign-currency standalone customers get
    English names (some with commas, e.g. "Golden Harbor Trading Co., Ltd.")."""
    n = len(level)
    stem = _join(np.array(vocab.REGION_WORDS)[np.clip(region, 0, len(vocab.REGION_WORDS) - 1)],
                 _pick(rng, vocab.BRAND_WORDS, n), np.array(vocab.INDUSTRY_WORDS)[industry])
    head = np.arange(n)
    for _ in range(2):  # climb to the group head (depth <= 3)
        head = np.where(parent[head] >= 0, parent[head], head)
    group_stem = stem[head]
    city = _pick(rng, vocab.CITIES, n)
    legal = np.where(rng.random(n) < 0.3, "股份有限公司", "有限公司")
    names = np.select(
        [level == 1, level == 2, level == 3],
        [_join(stem, "集团有限公司"), _join(group_stem, "(", city, ")有限公司"), _join(group_stem, city, "分公司")],
        _join(stem, legal),
    )
    english = _join(_pick(rng, vocab.EN_WORDS, n), " ", _pick(rng, vocab.EN_WORDS, n), " ",
                    _pick(rng, vocab.EN_NOUNS, n), " ", _pick(rng, vocab.EN_FORMS, n))
    return np.where((currency != "CNY") & (level == 0), english, names)


def people(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(Chinese full names, pinyin 'given.surname') of n fake people."""
    s = rng.integers(0, len(vocab.SURNAMES), n)
    g = rng.integers(0, len(vocab.GIVEN_NAMES), n)
    han = _join(np.array([x[0] for x in vocab.SURNAMES])[s], np.array([x[0] for x in vocab.GIVEN_NAMES])[g])
    pinyin = _join(np.array([x[1] for x in vocab.GIVEN_NAMES])[g], ".",
                   np.array([x[1] for x in vocab.SURNAMES])[s])
    return han, pinyin


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random mainland mobile-style numbers, '+86 139 1234 5678' (fake)."""
    head = rng.integers(130, 200, n).astype(str)
    a = np.char.zfill(rng.integers(0, 10_000, n).astype(str), 4)
    b = np.char.zfill(rng.integers(0, 10_000, n).astype(str), 4)
    return _join("+86 ", head, " ", a, " ", b)


def emails(local: np.ndarray, account_number: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """local + serial @ a<account>.example.com (a reserved documentation domain)."""
    return _join(local, serial.astype(str), "@a", np.char.zfill(account_number.astype(str), 6), ".example.com")
