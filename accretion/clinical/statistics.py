"""Summary statistics from aggregates: means with confidence intervals, proportions.

Pure Python (standard library only). The database returns, per group, the
count, the sum and the sum of squares of a score (every database has COUNT
and SUM, not every one has STDDEV); these functions turn those three numbers
into a mean, a standard deviation and a 95 % confidence interval, so the
post-processing touches one row per group, never one row per patient.

* Mean: Student's t interval, mean ± t(0.975, n - 1) · s / √n, with the
  sample standard deviation s = √((Σx² - (Σx)² / n) / (n - 1)).
* Proportion: Wilson score interval (Wilson EB. J Am Stat Assoc
  1927;22:209-212), which stays inside 0-1 for small counts and rates near
  0 or 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from statistics import NormalDist

__all__ = ["CONFIDENCE", "MeanCI", "Proportion", "clip", "mean_ci", "proportion", "rounded", "t_quantile"]

CONFIDENCE = 0.95


def rounded(value: float, places: int = 0) -> str:
    """`value` as text, rounded half up like the instruments' scores (62.5 -> "63", 2.25 -> "2.3" at 1 place).

    The float's shortest decimal form is rounded, so 100 * 25 / 40 is 62.5 and gives "63" (Python's own
    formatting rounds half to even: "62").
    """
    result = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return str(result + 0)  # + 0 turns -0 into 0


@dataclass(frozen=True)
class MeanCI:
    n: int
    mean: float
    sd: float | None  # None for a single value
    low: float | None  # None when n < 2
    high: float | None

    @property
    def half_width(self) -> float | None:
        return None if self.low is None else (self.high - self.low) / 2


@dataclass(frozen=True)
class Proportion:
    successes: int
    n: int
    rate: float  # 0-1
    low: float
    high: float


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny, epsilon = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        m2 = 2 * m
        term = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2))
        d = 1.0 + term * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + term / c
        c = c if abs(c) > tiny else tiny
        result *= d * c
        term = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))
        d = 1.0 + term * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + term / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        result *= step
        if abs(step - 1.0) < epsilon:
            break
    return result


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) for 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def _t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t distribution with df degrees of freedom (0 < p < 1, df > 0)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be between 0 and 1")
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    if df > 1e7:
        return NormalDist().inv_cdf(p)
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        low, high = high, high * 2.0
    for _ in range(200):  # bisection to machine precision
        middle = (low + high) / 2.0
        if middle in (low, high):
            break
        if _t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


def mean_ci(n: int, total: float, total_of_squares: float, confidence: float = CONFIDENCE,
            scale: tuple[float, float] | None = None) -> MeanCI | None:
    """Mean, sample standard deviation and t interval from COUNT, SUM and SUM of squares; None for n = 0.

    With `scale` (the instrument's lowest and highest score, e.g. (0, 10) for pain NRS), the interval is
    clipped to it: no mean of such scores can lie outside, so a bound beyond it says nothing and is never
    shown (tables, CSV, PDF and plots all read the clipped bounds). The mean itself is clipped too, against
    rounding only (a mean of in-scale scores is in scale).
    """
    n = int(n or 0)
    if n <= 0:
        return None
    total, total_of_squares = float(total), float(total_of_squares)
    mean = total / n
    bottom, top = scale if scale is not None else (-math.inf, math.inf)
    mean = clip(mean, bottom, top)
    if n == 1:
        return MeanCI(n, mean, None, None, None)
    variance = max(0.0, (total_of_squares - total * total / n) / (n - 1))  # rounding can give -1e-16
    sd = math.sqrt(variance)
    half = t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1) * sd / math.sqrt(n)
    return MeanCI(n, mean, sd, clip(mean - half, bottom, top), clip(mean + half, bottom, top))


def clip(value: float, bottom: float, top: float) -> float:
    """`value` within [bottom, top]."""
    return min(top, max(bottom, value))


def proportion(successes: int, n: int, confidence: float = CONFIDENCE) -> Proportion | None:
    """Rate and Wilson score interval; None for n = 0."""
    successes, n = int(successes or 0), int(n or 0)
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    rate = successes / n
    denominator = 1.0 + z * z / n
    centre = (rate + z * z / (2 * n)) / denominator
    half = z * math.sqrt(rate * (1.0 - rate) / n + z * z / (4 * n * n)) / denominator
    return Proportion(successes, n, rate, max(0.0, centre - half), min(1.0, centre + half))
