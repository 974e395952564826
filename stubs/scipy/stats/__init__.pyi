# Partial stubs: scipy.stats.binomtest and its proportion interval (relay/growth/ab.py).
from typing import NamedTuple

class ConfidenceInterval(NamedTuple):
    low: float
    high: float

class BinomTestResult:
    k: int
    n: int
    pvalue: float
    def proportion_ci(
        self, confidence_level: float = ..., method: str = ...
    ) -> ConfidenceInterval: ...

def binomtest(
    k: int, n: int | None = ..., p: float = ..., alternative: str = ...
) -> BinomTestResult: ...
