"""A/B tests: reproducible assignment of recipients to variants, and confidence intervals.

Assignment hashes (campaign id, phone): the same recipient always lands in the same variant
and the same side of the test share, whichever process plans it and however often the run
is resumed, with no state stored. Intervals are Wilson score intervals from SciPy
(`scipy.stats.binomtest(...).proportion_ci`), imported when a report asks for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

MIN_VARIANTS, MAX_VARIANTS = 2, 4
LETTERS = "ABCD"


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one recipient belongs."""

    in_test: bool  # inside the test share (always True without one)
    variant: int  # index into the campaign's variants


def assign(campaign_id: int, phone: str, variants: int, test_share: int | None) -> Assignment:
    """The recipient's side of the test share and variant (uniform, reproducible)."""
    digest = hashlib.sha256(f"{campaign_id}:{phone}".encode()).digest()
    share = int.from_bytes(digest[:8], "big") / 2**64
    pick = int.from_bytes(digest[8:16], "big") % max(variants, 1)
    in_test = test_share is None or share * 100 < test_share
    return Assignment(in_test, pick)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion; None without trials."""
    if trials <= 0:
        return None
    from scipy.stats import binomtest  # heavy: loaded by reports only

    ci = binomtest(min(successes, trials), trials).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return float(ci.low), float(ci.high)


def variant_names(template: str, variants: Sequence[str] | None) -> list[str]:
    """The campaign's templates in variant order (one variant when it is no test)."""
    return list(variants) if variants else [template]
