"""Opt-out in people's own words: a recogniser behind the exact keywords.

Pure (no I/O but the packaged dictionary). `understand(text)` first tries the exact keywords of
`relay.policy.keywords` (the fast path), then reads the reply:

- Russian through pymorphy3 lemmas, so every form of a verb counts ("прекратите",
  "прекращайте", "прекратить"); Belarusian and Kazakh through the forms and stems people write
  (no dictionary exists for them); English through a few folded forms.
- The reply is cut into clauses (at . , ! ? ; and "but"/"а"/"но"); each clause is read as one
  of: a request to stop with a messaging object ("удалите мой номер из рассылки", "stop sending
  me texts"), a bare request ("прекратите", "отписаться, рахмет"), a "do not send"
  ("больше не пишите", "don't text me"), a "do not want" ("не хочу получать смс"), a complaint
  ("хватит спамить", "надоели ваши смс"), a negated stop ("не отписывайте", "don't stop"), or
  an opt-in ("подпишите меня обратно").
- Politeness in all three countries ("пожалуйста", "рахмет", "дзякуй", "please"), pronouns,
  "more/again", "your/this" never change the meaning; any other word next to a stop verb makes
  the clause unsure.
- A reply about an order, a delivery, a payment or a cart ("Стоп, а где мой заказ?", "отмените
  заказ", "stop by our store") is never an opt-out unless a clause names the messages
  themselves ("отмените заказ и отпишите меня от рассылки").

The answer is OPT_OUT, OPT_IN, UNSURE (a person should decide: the relay queues it for review
and holds marketing to the number meanwhile) or None (an ordinary reply). An UNSURE is never
acted on by itself, so a look-alike can at worst be held for review, never opted out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from relay.policy.keywords import HELP, OPT_IN, OPT_OUT, classify
from relay.policy.optout_words import (
    CANCEL,
    CESSATION,
    COMPLAINT,
    FILLER,
    FORMS,
    GRIPE,
    LEMMAS,
    ME,
    MORE,
    NEED,
    NEG,
    NEG_SEND,
    NEGATED_STEMS,
    NOUN_BEFORE_STOP,
    OBJ,
    OFF,
    OPTIN,
    ORDER,
    POLITE,
    RECEIVE,
    REMOVE,
    RESTORE,
    SEND,
    STEMS,
    STOP,
    TAKE,
    TYPO_FORMS,
    UNSUB,
    WANT,
)

UNSURE = "unsure"
MAX_WORDS = 300  # a reply longer than this is read up to here (1,600 characters is ~250 words)

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*", re.UNICODE)
_CLAUSE = re.compile(r"[.,!?;:()\n…]+|\s[-–—]\s|\b(?:but|а|но)\b", re.UNICODE)
_PHRASES = (
    (re.compile(r"\bopt[\s\-]*(?:me\s+)?out\b"), "optout me"),
    (re.compile(r"\bwant\s+out\b"), "optout"),
    (re.compile(r"\b(?:don['’]?t|do\s+not|dont)\b"), "not"),
    (re.compile(r"\bleave\s+me\s+alone\b"), "stop"),
    (re.compile(r"\bno\s+more\b"), "not more"),
    (re.compile(r"\bсколько\s+можно\b"), "хватит"),
    (re.compile(r"\bне\s+нуж"), "не нуж"),
    (re.compile(r"\bстоп[\s\-]*(?:кран|лист|слово|сигнал)\w*"), "стопобъект"),
    (re.compile(r"\bnon[\s\-]*stop\b"), "nonstop"),
    (re.compile(r"\bбас\s+тарт\w*"), "бастарту"),
    (re.compile(r"\bstop\s+by\b"), "stopby store"),
)
FORMS_EXTRA_UNSUB = frozenset({"бастарту"})


@dataclass(frozen=True)
class Verdict:
    """What a reply means: OPT_OUT, OPT_IN, HELP, UNSURE or None (an ordinary reply)."""

    kind: str | None
    all_channels: bool = False
    why: str = ""
    words: tuple[str, ...] = ()
    clauses: tuple[str, ...] = field(default=(), compare=False)

    @property
    def acts(self) -> bool:
        """True when the relay acts on it by itself (opt-out, opt-in, help)."""
        return self.kind in (OPT_OUT, OPT_IN, HELP)


# ---- normalising and reading words ------------------------------------------------------------


def normalise(text: str) -> str:
    """NFKC, lower case, ё→е, no control characters or emoji; words and clause marks only."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(
        ch if unicodedata.category(ch)[0] in "LNPZ" or ch in "\n'’-" else " " for ch in text
    )
    text = text.lower().replace("ё", "е").replace("’", "'")
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return text


@lru_cache(maxsize=1)
def _morph() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=20_000)
def _lemmas(word: str) -> tuple[frozenset[str], bool]:
    """The word's Russian lemmas, and whether the dictionary knows the word."""
    if not re.search("[а-я]", word):
        return frozenset(), False
    morph = _morph()
    parses = morph.parse(word)
    return frozenset(p.normal_form.replace("ё", "е") for p in parses), bool(
        morph.word_is_known(word)
    )


def _near(a: str, b: str) -> bool:
    """One edit apart (a letter wrong, missing, extra, or two neighbours swapped)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


@lru_cache(maxsize=20_000)
def word_classes(word: str) -> frozenset[str]:
    """Every class a word belongs to (empty: an unknown content word)."""
    found = {cls for cls, forms in FORMS.items() if word in forms}
    if word in FORMS_EXTRA_UNSUB:
        found.add(UNSUB)
    lemmas, known = _lemmas(word)
    found |= {cls for cls, lemmas_of in LEMMAS.items() if lemmas & lemmas_of}
    if word.startswith(NEGATED_STEMS):
        found.add("negated_stop")
    else:
        found |= {cls for cls, stems in STEMS.items() if word.startswith(stems)}
    if not found and not known and len(word) >= 5:
        found |= {cls for cls, forms in TYPO_FORMS.items() if any(_near(word, f) for f in forms)}
    if word.isdigit():
        found.add(FILLER)
    return frozenset(found)


# ---- clauses ----------------------------------------------------------------------------------

# the clause readings, strongest first
STRONG, BARE, CLAUSE_UNSURE, NEGATED, CLAUSE_OPT_IN, PLAIN = (
    "strong",
    "bare",
    "unsure",
    "negated",
    "opt_in",
    "plain",
)
NEUTRAL = frozenset({POLITE, FILLER, ME, MORE, OBJ, COMPLAINT, GRIPE})


@dataclass(frozen=True)
class Clause:
    """One clause as read: its reading, whether it names the messages, its order words."""

    reading: str
    names_messages: bool
    order: bool
    words: tuple[str, ...]


def _read_clause(words: list[str]) -> Clause:
    classes = [word_classes(w) for w in words]
    has = set().union(*classes) if classes else set()
    order = ORDER in has
    names_messages = OBJ in has or SEND in has or NEG_SEND in has
    # "the bus stop", "our next stop": stop as a noun
    stop_as_noun = [
        i for i, w in enumerate(words) if w == "stop" and i and NOUN_BEFORE_STOP in classes[i - 1]
    ]
    for i in stop_as_noun:
        classes[i] = frozenset({FILLER})
    has = set().union(*classes) if classes else set()

    def negated_before(i: int) -> bool:
        # "не отписывайте", "не надо меня отписывать", "не хочу отписываться", "never stop"
        for j in range(i - 1, max(-1, i - 4), -1):
            if NEG in classes[j]:
                return True
            if not classes[j] & {WANT, NEED, ME, MORE, FILLER, POLITE}:
                return False
        return False

    cessation = [i for i, c in enumerate(classes) if c & CESSATION]
    cessation += [i for i, c in enumerate(classes) if CANCEL in c and OBJ in has]
    cessation += [i for i, c in enumerate(classes) if TAKE in c and OFF in has]
    if "negated_stop" in has or any(negated_before(i) for i in cessation):
        return Clause(NEGATED, names_messages, order, tuple(words))

    # words that carry meaning of their own: any of them next to a stop verb makes it unsure
    content = [
        w
        for w, c in zip(words, classes, strict=True)
        if not c or (c <= {ORDER, NOUN_BEFORE_STOP} and not c & NEUTRAL)
    ]
    plain_context = not content
    neg_send = NEG_SEND in has or any(
        SEND in classes[i] and any(NEG in classes[j] for j in range(max(0, i - 3), i))
        for i in range(len(classes))
    )
    not_wanted = (
        NEG in has
        and (WANT in has or NEED in has)
        and (RECEIVE in has or OBJ in has or SEND in has or MORE in has or NEED in has)
    )
    # "no more texts", "больше не надо смс"
    no_more = NEG in has and MORE in has and OBJ in has
    if cessation:
        strong_verb = (
            any(classes[i] & {STOP, UNSUB, REMOVE} for i in cessation)
            or (CANCEL in has and OBJ in has)
            or (TAKE in has and OFF in has)
        )
        if plain_context:
            return Clause(
                STRONG if names_messages or COMPLAINT in has else BARE,
                names_messages,
                order,
                tuple(words),
            )
        return Clause(CLAUSE_UNSURE if strong_verb else PLAIN, names_messages, order, tuple(words))
    if neg_send or not_wanted or no_more:
        if plain_context:
            return Clause(STRONG if names_messages else BARE, names_messages, order, tuple(words))
        return Clause(PLAIN, names_messages, order, tuple(words))
    if GRIPE in has or COMPLAINT in has:
        # "надоели ваши смс", "хватит спамить" (спамить is a complaint and a sending verb);
        # "спам", "это спам", "достали" alone: a person should read it
        if plain_context and (SEND in has or (GRIPE in has and OBJ in has)):
            return Clause(STRONG, True, order, tuple(words))
        return Clause(CLAUSE_UNSURE, names_messages, order, tuple(words))
    wants = OPTIN in has or (WANT in has and RECEIVE in has) or (RESTORE in has and OBJ in has)
    if wants and NEG not in has and plain_context:
        return Clause(CLAUSE_OPT_IN, names_messages, order, tuple(words))
    return Clause(PLAIN, names_messages, order, tuple(words))


def clauses_of(text: str) -> list[list[str]]:
    """The reply cut into clauses of words (at most MAX_WORDS words in all)."""
    out: list[list[str]] = []
    left = MAX_WORDS
    for part in _CLAUSE.split(normalise(text)):
        words = [w.strip("'-") for w in _WORD.findall(part)][:left]
        words = [w for w in words if w]
        if words:
            out.append(words)
            left -= len(words)
        if left <= 0:
            break
    return out


def recognise(text: str) -> Verdict:
    """Read a reply the exact keywords did not match (see the module docstring)."""
    parts = clauses_of(text)
    if not parts:
        return Verdict(None, why="no words")
    read = [_read_clause(words) for words in parts]
    shown = tuple(" ".join(c.words) for c in read)
    about_order = any(c.order for c in read)
    strong = [c for c in read if c.reading == STRONG]
    bare = [c for c in read if c.reading == BARE]
    unsure = [c for c in read if c.reading == CLAUSE_UNSURE]
    negated = [c for c in read if c.reading == NEGATED]
    opt_in = [c for c in read if c.reading == CLAUSE_OPT_IN]
    if about_order:
        # only a clause that names the messages themselves opts out of a reply about an order
        named = [c for c in strong if c.names_messages and OBJ in _classes_in(c)]
        if named and not negated:
            return Verdict(
                OPT_OUT, why="asks to stop the messages", words=named[0].words, clauses=shown
            )
        return Verdict(None, why="about an order, a delivery or a payment", clauses=shown)
    if negated and not strong:
        return Verdict(None, why="asks not to stop", words=negated[0].words, clauses=shown)
    if strong or bare:
        if opt_in or negated:
            return Verdict(UNSURE, why="asks both to stop and to go on", clauses=shown)
        first = (strong or bare)[0]
        why = "asks to stop the messages" if strong else "a bare request to stop"
        return Verdict(OPT_OUT, why=why, words=first.words, clauses=shown)
    if unsure:
        return Verdict(
            UNSURE,
            why="speaks of stopping or of spam, in other words too",
            words=unsure[0].words,
            clauses=shown,
        )
    if opt_in:
        return Verdict(OPT_IN, why="asks to get the messages", words=opt_in[0].words, clauses=shown)
    return Verdict(None, why="an ordinary reply", clauses=shown)


def _classes_in(clause: Clause) -> set[str]:
    found: set[str] = set()
    for word in clause.words:
        found |= word_classes(word)
    return found


def understand(text: str, tenant_words: dict[str, Iterable[str]] | None = None) -> Verdict:
    """The exact keywords first (fast path), then the recogniser."""
    try:
        match = classify(text, tenant_words)
    except Exception:  # a tenant word list that is not a list of strings: the fast path only
        match = classify(text, None)
    if match is not None:
        return Verdict(match.kind, match.all_channels, match.why, (match.matched,))
    verdict = recognise(text)
    if verdict.kind == OPT_OUT:
        folded = normalise(text)
        every = bool(re.search(r"\b(?:всех|все|all|усіх|барлық)\b", folded)) and bool(
            re.search(r"\b(?:канал\w*|channels?|viber|вайбер)\b", folded)
        )
        return Verdict(OPT_OUT, every, verdict.why, verdict.words, verdict.clauses)
    return verdict
