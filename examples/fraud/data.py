"""A seeded, synthetic card-transaction log for the fraud example — no real fraud data ships.

Real card-fraud data are private (and the public Kaggle set is PCA-scrambled, without card ids
or times), so the example generates its own: :func:`generate` returns the cards and their
transactions as Arrow tables. The same ``seed`` and ``now`` give the same rows. Everything
below is an assumption of this generator, chosen to look like card traffic and to make fraud
*partly* detectable; none of it is measured from real data.

Cards
    ``n_transactions // 40`` cards (at least 20), ids from 100001. Each card has a home country
    (US 45%, GB 13%, DE 11%, FR 9%, CA 8%, ES 6%, IT 5%, NL 3%), a typical spend (the log of its
    amounts has mean ~ Normal(3.3, 0.45), i.e. a median near $27, and spread ~ Uniform(0.35,
    0.75)), an activity level (Gamma(2, 1): some cards are used far more than others) and a
    taste for merchant categories (Dirichlet around the categories' popularity, so a card
    spends mostly in three or four of them).

Merchants
    12 categories (grocery, restaurants, fuel, transport, pharmacy, clothing, entertainment,
    utilities, travel, electronics, jewelry, gift_cards) x 8 countries, ``max(3, cards // 25)``
    merchants in each pair. A card has one regular merchant per category and country and goes
    back to it 60% of the time.

Amounts
    Log-normal: ``exp(Normal(card's log mean + category offset, card's spread))``, in dollars,
    rounded to cents, at least $0.50. Category offsets (log scale) make transport cheap (-0.8)
    and travel, electronics and jewelry dear (+1.2, +1.0, +1.3).

Times
    The log runs from midnight UTC ``days`` (60) days before ``now - 1 hour`` up to ``now - 1
    hour``; ``now`` defaults to the current UTC time, so the newest rows are recent and online
    TTLs are live. A legitimate transaction falls on a uniformly drawn day at an hour drawn
    from a daily profile (busy 11:00-20:00, almost nothing from 00:00 to 04:59: 1% of
    legitimate traffic). ``hour`` is the hour of ``ts`` in UTC, standing in for the
    cardholder's local time (one time zone for all).

Legitimate oddities (so that no single signal is proof)
    2% of legitimate transactions are abroad (travel), some are at night, some are in the
    risky categories, and log-normal tails give occasional large purchases.

Fraud (``is_fraud`` = 1), ``fraud_rate`` of the rows (default 0.7%)
    Fraud comes in *episodes* on a compromised card (cards drawn by activity), each starting
    at least 7 days into the log: ``1 + Poisson(1.2)`` transactions (at most 6) 40-200 seconds
    apart, so a burst lasts minutes. 15% of episodes are "stealthy": they look like the
    cardholder's own spending and no model should catch them. The others, each trait drawn
    independently, are:

    - 85% "greedy": amounts far above the card's usual spend (log offset ~ Normal(1.7, 0.5),
      about 5x); the rest spend like the cardholder;
    - 60% at night (the burst starts between 00:00 and 04:59);
    - 50% abroad (a country other than the card's home);
    - 70% in a risky category (electronics, jewelry, gift_cards), usually new to the card.

    What makes fraud detectable, then: the amount against the card's average, a category the
    card never used, the hour, a foreign country, and several charges within ten minutes.

Columns
    cards: ``card_id`` (int64), ``home_country`` (string).
    transactions, sorted by time: ``txn_id`` (int64, 1..n in time order), ``card_id``,
    ``ts`` (timestamp[us, UTC]), ``amount`` (float64), ``merchant_id`` (int64),
    ``merchant_category`` (string), ``country`` (string), ``hour`` (int64, 0-23),
    ``is_fraud`` (int64, 0/1).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
import pyarrow as pa

CATEGORIES = (
    "grocery",
    "restaurants",
    "fuel",
    "transport",
    "pharmacy",
    "clothing",
    "entertainment",
    "utilities",
    "travel",
    "electronics",
    "jewelry",
    "gift_cards",
)
POPULARITY = np.array([0.24, 0.17, 0.10, 0.11, 0.06, 0.08, 0.07, 0.06, 0.04, 0.04, 0.01, 0.02])
LOG_OFFSET = np.array([0.0, -0.2, 0.1, -0.8, -0.5, 0.3, -0.3, 0.5, 1.2, 1.0, 1.3, 0.4])
RISKY = np.array([CATEGORIES.index(c) for c in ("electronics", "jewelry", "gift_cards")])
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "ES", "IT", "NL")
COUNTRY_SHARE = np.array([0.45, 0.13, 0.11, 0.09, 0.08, 0.06, 0.05, 0.03])
HOUR_PROFILE = np.array(
    [3, 2, 1, 1, 2, 4, 10, 22, 40, 48, 55, 62, 70, 66, 60, 60, 62, 70, 75, 70, 58, 42, 26, 12],
    dtype=float,
)
TXNS_PER_CARD = 40
TRAVEL_SHARE = 0.02
REGULAR_SHARE = 0.6
DAY_S = 86_400


class Synthetic(NamedTuple):
    """The generated cards and transactions (Arrow tables)."""

    cards: pa.Table
    transactions: pa.Table


class _Cards(NamedTuple):
    home: np.ndarray
    log_mean: np.ndarray
    log_spread: np.ndarray
    activity: np.ndarray
    taste: np.ndarray


class _Rows(NamedTuple):
    card: np.ndarray
    seconds: np.ndarray
    category: np.ndarray
    country: np.ndarray
    amount: np.ndarray
    merchant: np.ndarray


def generate(
    n_transactions: int,
    *,
    seed: int = 0,
    now: datetime | None = None,
    days: int = 60,
    fraud_rate: float = 0.007,
) -> Synthetic:
    """``n_transactions`` card transactions over ``days`` days before ``now`` (see the module
    docstring for every assumption). Raises ValueError for fewer than 100 transactions or a
    fraud rate outside (0, 0.1]."""
    if n_transactions < 100:
        raise ValueError(f"generate at least 100 transactions, got {n_transactions}")
    if not 0 < fraud_rate <= 0.1:
        raise ValueError(f"fraud_rate must be in (0, 0.1], got {fraud_rate}")
    rng = np.random.default_rng(seed)
    end = (now or datetime.now(UTC)).astimezone(UTC) - timedelta(hours=1)
    base = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    span_s = (end - base).total_seconds()
    n_cards = max(20, n_transactions // TXNS_PER_CARD)
    cards = _cards(rng, n_cards)
    per_pair = max(3, n_cards // 25)
    n_fraud = max(1, round(n_transactions * fraud_rate))
    legit = _legit(rng, cards, n_transactions - n_fraud, span_s, per_pair)
    fraud = _fraud(rng, cards, n_fraud, span_s, per_pair)
    return Synthetic(
        pa.table(
            {
                "card_id": pa.array(100_001 + np.arange(n_cards), pa.int64()),
                "home_country": pa.array(np.array(COUNTRIES)[cards.home], pa.string()),
            }
        ),
        _table(legit, fraud, base),
    )


def _cards(rng: np.random.Generator, n: int) -> _Cards:
    return _Cards(
        home=rng.choice(len(COUNTRIES), size=n, p=COUNTRY_SHARE),
        log_mean=rng.normal(3.3, 0.45, size=n),
        log_spread=rng.uniform(0.35, 0.75, size=n),
        activity=rng.gamma(2.0, 1.0, size=n),
        taste=rng.dirichlet(POPULARITY * 4.0, size=n),
    )


def _legit(rng: np.random.Generator, cards: _Cards, n: int, span_s: float, per_pair: int) -> _Rows:
    card = rng.choice(len(cards.home), size=n, p=cards.activity / cards.activity.sum())
    category = _tasteful_category(rng, cards, card)
    country = cards.home[card].copy()
    abroad = rng.random(n) < TRAVEL_SHARE
    country[abroad] = _elsewhere(rng, country[abroad])
    days = int(span_s // DAY_S) + 1
    hour = rng.choice(24, size=n, p=HOUR_PROFILE / HOUR_PROFILE.sum())
    seconds = rng.integers(0, days, size=n) * DAY_S + hour * 3600 + rng.uniform(0, 3600, size=n)
    seconds = np.where(seconds > span_s, seconds - DAY_S, seconds)  # the same hour, a day back
    amount = _amount(rng, cards, card, category, extra=np.zeros(n))
    regular = rng.random(n) < REGULAR_SHARE
    merchant = _merchant(rng, card, category, country, per_pair, regular)
    return _Rows(card, seconds, category, country, amount, merchant)


def _fraud(rng: np.random.Generator, cards: _Cards, n: int, span_s: float, per_pair: int) -> _Rows:
    sizes = np.minimum(1 + rng.poisson(1.2, size=n), 6)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= int(sizes.sum()) - n  # exactly n fraudulent rows
    episodes = len(sizes)
    stealthy = rng.random(episodes) < 0.15
    greedy = ~stealthy & (rng.random(episodes) < 0.85)
    night = ~stealthy & (rng.random(episodes) < 0.6)
    abroad = ~stealthy & (rng.random(episodes) < 0.5)
    risky = ~stealthy & (rng.random(episodes) < 0.7)
    ep_card = rng.choice(len(cards.home), size=episodes, p=cards.activity / cards.activity.sum())
    start = rng.uniform(7 * DAY_S, span_s - 1200, size=episodes)
    night_start = (start // DAY_S) * DAY_S + rng.uniform(0, 5 * 3600, size=episodes)
    start = np.where(night, np.minimum(night_start, span_s - 1200), start)
    ep_country = np.where(abroad, _elsewhere(rng, cards.home[ep_card]), cards.home[ep_card])

    ep = np.repeat(np.arange(episodes), sizes)
    step = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    gap = rng.uniform(40, 200, size=episodes)
    seconds = start[ep] + step * gap[ep] + rng.uniform(0, 20, size=n)
    card = ep_card[ep]
    category = _tasteful_category(rng, cards, card)
    category = np.where(risky[ep], rng.choice(RISKY, size=n), category)
    extra = np.where(greedy[ep], rng.normal(1.7, 0.5, size=n), 0.0)
    amount = _amount(rng, cards, card, category, extra=extra)
    country = ep_country[ep]
    merchant = _merchant(rng, card, category, country, per_pair, np.zeros(n, dtype=bool))
    return _Rows(card, seconds, category, country, amount, merchant)


def _tasteful_category(rng: np.random.Generator, cards: _Cards, card: np.ndarray) -> np.ndarray:
    """One category per row, drawn from that row's card's taste (vectorised inverse CDF)."""
    cumulative = np.cumsum(cards.taste, axis=1)[card]
    u = rng.random(len(card))[:, None]
    picked: np.ndarray = np.minimum((u > cumulative).sum(axis=1), len(CATEGORIES) - 1)
    return picked


def _elsewhere(rng: np.random.Generator, home: np.ndarray) -> np.ndarray:
    """A country other than ``home``, row by row."""
    moved: np.ndarray = (home + rng.integers(1, len(COUNTRIES), size=len(home))) % len(COUNTRIES)
    return moved


def _amount(
    rng: np.random.Generator,
    cards: _Cards,
    card: np.ndarray,
    category: np.ndarray,
    *,
    extra: np.ndarray,
) -> np.ndarray:
    log = rng.normal(cards.log_mean[card] + LOG_OFFSET[category] + extra, cards.log_spread[card])
    amount: np.ndarray = np.maximum(np.round(np.exp(log), 2), 0.5)
    return amount


def _merchant(
    rng: np.random.Generator,
    card: np.ndarray,
    category: np.ndarray,
    country: np.ndarray,
    per_pair: int,
    regular: np.ndarray,
) -> np.ndarray:
    """A merchant of the row's category and country: the card's regular one, or any."""
    usual = (card * 7919 + category * 104_729 + country * 31) % per_pair
    slot = np.where(regular, usual, rng.integers(0, per_pair, size=len(card)))
    merchant: np.ndarray = 1 + (category * len(COUNTRIES) + country) * per_pair + slot
    return merchant


def _table(legit: _Rows, fraud: _Rows, base: datetime) -> pa.Table:
    rows = _Rows(*(np.concatenate([a, b]) for a, b in zip(legit, fraud, strict=True)))
    is_fraud = np.concatenate([np.zeros(len(legit.card)), np.ones(len(fraud.card))])
    order = np.argsort(rows.seconds, kind="stable")
    base_us = int(base.timestamp()) * 1_000_000
    ts_us = base_us + np.round(rows.seconds[order] * 1e6).astype(np.int64)
    return pa.table(
        {
            "txn_id": pa.array(np.arange(1, len(order) + 1), pa.int64()),
            "card_id": pa.array(100_001 + rows.card[order], pa.int64()),
            "ts": pa.array(ts_us, pa.timestamp("us", "UTC")),
            "amount": pa.array(rows.amount[order], pa.float64()),
            "merchant_id": pa.array(rows.merchant[order], pa.int64()),
            "merchant_category": pa.array(np.array(CATEGORIES)[rows.category[order]], pa.string()),
            "country": pa.array(np.array(COUNTRIES)[rows.country[order]], pa.string()),
            "hour": pa.array((ts_us // 3_600_000_000) % 24, pa.int64()),
            "is_fraud": pa.array(is_fraud[order].astype(np.int64), pa.int64()),
        }
    )
