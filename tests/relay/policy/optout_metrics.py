"""Precision and recall of the opt-out recogniser on the hand-written corpus.

    .venv/bin/python -m tests.relay.policy.optout_metrics [--show-misses]

Counts, over tests/relay/policy/data/optout_corpus.tsv: opt-outs acted on by themselves
(recall), opt-outs at least held for review ("caught"), replies wrongly opted out (precision),
look-alikes opted out (must be zero) and look-alikes merely held for review.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from relay.policy.keywords import OPT_IN, OPT_OUT
from relay.policy.optout import UNSURE, understand

CORPUS = Path(__file__).parent / "data" / "optout_corpus.tsv"


def corpus() -> list[tuple[str, str, str]]:
    """(label, group, text) for every line of the corpus."""
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, group, text = line.split("\t", 2)
        rows.append((label, group, text))
    return rows


@dataclass
class Figures:
    """What the recogniser did with the corpus."""

    size: int = 0
    opt_outs: int = 0
    opted_out: int = 0  # true positives
    held: int = 0  # opt-outs sent to review
    false_opt_outs: list[str] = field(default_factory=list)
    lookalikes: int = 0
    lookalike_opt_outs: list[str] = field(default_factory=list)
    lookalike_held: list[str] = field(default_factory=list)
    opt_ins: int = 0
    opted_in: int = 0
    false_opt_ins: list[str] = field(default_factory=list)
    misses: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        acted = self.opted_out + len(self.false_opt_outs)
        return self.opted_out / acted if acted else 1.0

    @property
    def recall(self) -> float:
        return self.opted_out / self.opt_outs if self.opt_outs else 1.0

    @property
    def caught(self) -> float:
        return (self.opted_out + self.held) / self.opt_outs if self.opt_outs else 1.0


def evaluate() -> Figures:
    """Run the recogniser (fast path + recogniser, as the relay does) over the corpus."""
    f = Figures()
    for label, group, text in corpus():
        f.size += 1
        kind = understand(text).kind
        if label == OPT_OUT:
            f.opt_outs += 1
            if kind == OPT_OUT:
                f.opted_out += 1
            elif kind == UNSURE:
                f.held += 1
                f.misses.append((label, text, kind))
            else:
                f.misses.append((label, text, kind))
            continue
        lookalike = group in ("lookalike", "negation")
        f.lookalikes += lookalike
        if kind == OPT_OUT:
            f.false_opt_outs.append(text)
            if lookalike:
                f.lookalike_opt_outs.append(text)
        elif kind == UNSURE and lookalike:
            f.lookalike_held.append(text)
        if label == OPT_IN:
            f.opt_ins += 1
            f.opted_in += kind == OPT_IN
            if kind != OPT_IN:
                f.misses.append((label, text, kind))
        elif kind == OPT_IN:
            f.false_opt_ins.append(text)
    return f


def report(f: Figures, show_misses: bool = False) -> str:
    lines = [
        f"corpus: {f.size} phrasings ({f.opt_outs} opt-outs, {f.opt_ins} opt-ins, "
        f"{f.size - f.opt_outs - f.opt_ins} other replies, of which {f.lookalikes} "
        "look-alikes and negations)",
        f"opt-out precision: {f.precision:.4f} ({len(f.false_opt_outs)} false opt-outs)",
        f"opt-out recall (acted on): {f.recall:.4f} ({f.opted_out}/{f.opt_outs})",
        f"opt-outs held for review: {f.held}; caught (acted on or held): {f.caught:.4f}",
        f"false opt-outs on look-alikes: {len(f.lookalike_opt_outs)}",
        f"look-alikes held for review: {len(f.lookalike_held)}/{f.lookalikes}",
        f"opt-in recall: {f.opted_in}/{f.opt_ins}; false opt-ins: {len(f.false_opt_ins)}",
    ]
    if show_misses:
        lines += [f"  miss [{label} → {kind}] {text}" for label, text, kind in f.misses]
        lines += [f"  FALSE OPT-OUT {t}" for t in f.false_opt_outs]
        lines += [f"  held look-alike {t}" for t in f.lookalike_held]
        lines += [f"  false opt-in {t}" for t in f.false_opt_ins]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(evaluate(), "--show-misses" in sys.argv))
