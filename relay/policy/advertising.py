"""Content rules for advertising (38-FZ «О рекламе»; Belarus and Kazakhstan have the same
kinds of rules): pure, each finding with its rule and the words that triggered it.

- `obscene` (hard, art. 5 p. 6: no obscene language): read on lemmas (pymorphy3) and on roots
  with the usual prefixes, so inflected and derived forms are caught ("заебали", "охуенные"),
  and words that only look alike are not ("застрахуйте", "бляшка", "мандарин", "употребление").
- `superlative` (soft, art. 5 p. 3: comparisons and "the best" need proof): "лучший", "самый
  дешёвый", "№1", "номер один", "лидер", "best", "cheapest" … unless the text names a source
  ("по данным …", "по версии …", "согласно …", "источник", "according to").
- `restricted_goods` (soft, arts. 7, 21, 24, 27: goods that may not be advertised by SMS):
  alcohol, tobacco and vapes, prescription medicines, weapons, gambling.
- `no_sender` (soft): the text does not tell who advertises (a name of the tenant, one of its
  sender names, or a web address). Checked where the sender is known: a template that names no
  sender of its own.

A tenant may waive a soft finding with a recorded justification (`waivers`: (rule, word)
pairs); an obscene word is never waived.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from relay.policy.model import (
    CONTENT_RULE,
    MARKETING,
    PolicyMessage,
    Reason,
    RecipientFacts,
    TenantPolicy,
)
from relay.policy.optout import _lemmas, normalise

OBSCENE, SUPERLATIVE, RESTRICTED, NO_SENDER = (
    "obscene",
    "superlative",
    "restricted_goods",
    "no_sender",
)
HARD, SOFT = "hard", "soft"
SEVERITY = {OBSCENE: HARD, SUPERLATIVE: SOFT, RESTRICTED: SOFT, NO_SENDER: SOFT}
RULES = tuple(SEVERITY)

_PREFIX = (
    r"(?:за|вы|у|до|от|на|об|объ|подъ|съ|разъ|изъ|въ|по|при|пере|недо|про|о|с|вз|рас|раз|из|"
    r"пол|ни|а)?"
)
_OBSCENE_ROOTS = re.compile(
    r"^(?:"
    + _PREFIX
    + r"(?:х[уy][йяеёию]|пизд|п[ие]зд[ае]ц|[её]б(?:а|ы|у|л|н|ну|ищ|ырь|ош|ук|ок|он|с)|бля[дт]?|"
    r"мудак|мудил|мудоз|пид[оа]р|залуп|гандон|шлюх|сук(?:а|и|у|ой|ин|ам)?$|манд(?:а|ой|у|ы)$)"
    r")",
)
# words the roots would catch by accident
_NOT_OBSCENE = re.compile(
    r"^(?:стра|застра|перестра|ху[дт]|хуж|ебенев|небе|бляш|бляха|мандар|мандат|"
    r"сукн|сукон|сукр|судак|употреб|оскорбл|колеб|погреб|хлеб|ребен|ребён|себе|гребен|"
    r"шлюз|шлюп|сука[чр]|пизан|ебур)"
)
_SUPERLATIVE_LEMMAS = frozenset(
    {
        "лучший",
        "наилучший",
        "самый",
        "лидер",
        "непревзойдённый",
        "непревзойденный",
        "наивысший",
        "наименьший",
        "наибольший",
        "дешевейший",
        "самый-самый",
    }
)
_SUPERLATIVE_FORMS = re.compile(
    r"(?:№\s?1\b|#\s?1\b|номер\s+один|number\s+one|\bno\.?\s?1\b|\bbest\b|\bcheapest\b|"
    r"\blowest\s+price|\bleader\b|\bлучш\w*|\bнаилучш\w*|\bсам(?:ы[йеяхм]|ая|ое|ую|ого|ому)\w*(?:\s+[а-яё]+)?|"
    r"\bдешевле\s+всех|"
    r"\bнигде\s+(?:не\s+)?дешевле|\bпервы[йе]\s+в\s+(?:россии|беларуси|казахстане|мире))",
    re.IGNORECASE,
)
_SOURCE = re.compile(
    r"(?:по\s+данным|по\s+версии|по\s+результатам|согласно|источник|исследовани|рейтинг\w*\s+\S+|"
    r"according\s+to|source:|\*\s*\S)",
    re.IGNORECASE,
)
_RESTRICTED_LEMMAS: dict[str, str] = {
    # alcohol (art. 21)
    "алкоголь": "alcohol",
    "алкогольный": "alcohol",
    "слабоалкогольный": "alcohol",
    "пиво": "alcohol",
    "пивной": "alcohol",
    "вино": "alcohol",
    "винный": "alcohol",
    "водка": "alcohol",
    "коньяк": "alcohol",
    "виски": "alcohol",
    "ром": "alcohol",
    "джин": "alcohol",
    "шампанское": "alcohol",
    "игристый": "alcohol",
    "сидр": "alcohol",
    "ликёр": "alcohol",
    "ликер": "alcohol",
    "текила": "alcohol",
    "настойка": "alcohol",
    "бренди": "alcohol",
    "портвейн": "alcohol",
    "вермут": "alcohol",
    "медовуха": "alcohol",
    # tobacco, nicotine (art. 7)
    "табак": "tobacco",
    "табачный": "tobacco",
    "сигарета": "tobacco",
    "сигара": "tobacco",
    "сигарилла": "tobacco",
    "папироса": "tobacco",
    "вейп": "tobacco",
    "кальян": "tobacco",
    "никотин": "tobacco",
    "никотиновый": "tobacco",
    "снюс": "tobacco",
    "насвай": "tobacco",
    "электронный сигарета": "tobacco",
    "под-система": "tobacco",
    "жидкость для вейпа": "tobacco",
    # prescription medicines (art. 24)
    "рецептурный": "prescription_medicine",
    "антибиотик": "prescription_medicine",
    "транквилизатор": "prescription_medicine",
    "антидепрессант": "prescription_medicine",
    # weapons (art. 7)
    "оружие": "weapons",
    "пистолет": "weapons",
    "патрон": "weapons",
    "травматический": "weapons",
    "карабин": "weapons",
    "ружьё": "weapons",
    "ружье": "weapons",
    # gambling (art. 27)
    "казино": "gambling",
    "букмекер": "gambling",
    "букмекерский": "gambling",
    "тотализатор": "gambling",
    "слот": "gambling",
    "джекпот": "gambling",
}
_RESTRICTED_FORMS: dict[str, str] = {
    "beer": "alcohol",
    "wine": "alcohol",
    "vodka": "alcohol",
    "whisky": "alcohol",
    "whiskey": "alcohol",
    "cognac": "alcohol",
    "champagne": "alcohol",
    "alcohol": "alcohol",
    "cigarettes": "tobacco",
    "cigarette": "tobacco",
    "vape": "tobacco",
    "vapes": "tobacco",
    "tobacco": "tobacco",
    "hookah": "tobacco",
    "iqos": "tobacco",
    "snus": "tobacco",
    "casino": "gambling",
    "betting": "gambling",
    "jackpot": "gambling",
    "piwo": "alcohol",
}
# "безалкогольное пиво" is still beer advertising in the law's eyes; the tenant may waive it
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:ru|by|kz|com|net|org|shop|store|рф|бел|қаз)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """One thing wrong with an advertising text."""

    rule: str
    severity: str
    words: tuple[str, ...]
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "words": list(self.words),
            "detail": self.detail,
        }


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", normalise(text))


def _obscene(words: list[str]) -> list[str]:
    found = []
    for word in words:
        candidates = {word} | set(_lemmas(word)[0])
        if any(_OBSCENE_ROOTS.match(c) and not _NOT_OBSCENE.match(c) for c in candidates):
            found.append(word)
    return found


def check_advertising(
    text: str,
    identity: Iterable[str] = (),
    *,
    sender_known: bool = False,
    waivers: Iterable[tuple[str, str]] = (),
) -> tuple[Finding, ...]:
    """Every finding for `text`, hard first. `identity`: names that identify the advertiser
    (the tenant's names and sender names); `sender_known`: the message carries a sender name of
    its own (then `no_sender` is not checked); `waivers`: (rule, word) pairs the tenant
    justified, which silence soft findings on exactly those words (rule "*" for any word)."""
    waived = {(r, w.lower()) for r, w in waivers}
    words = _words(text or "")
    findings: list[Finding] = []

    obscene = _obscene(words)
    if obscene:
        findings.append(
            Finding(
                OBSCENE,
                HARD,
                tuple(dict.fromkeys(obscene)),
                "obscene language is not allowed in advertising (38-FZ art. 5 p. 6)",
            )
        )

    folded = normalise(text or "")
    raw = (text or "").lower()
    superlatives = [m.group(0).strip() for m in _SUPERLATIVE_FORMS.finditer(raw)]
    if not superlatives:
        superlatives = [m.group(0).strip() for m in _SUPERLATIVE_FORMS.finditer(folded)]
    superlatives += [
        w
        for w in words
        if set(_lemmas(w)[0]) & _SUPERLATIVE_LEMMAS and w not in " ".join(superlatives)
    ]
    if superlatives and not (_SOURCE.search(folded) or _SOURCE.search(raw)):
        findings.append(
            Finding(
                SUPERLATIVE,
                SOFT,
                tuple(dict.fromkeys(superlatives)),
                "a superlative or a comparison without its source (38-FZ art. 5 p. 3): "
                "name the source or remove it",
            )
        )

    restricted: dict[str, str] = {}
    for word in words:
        kinds = {_RESTRICTED_LEMMAS[lem] for lem in _lemmas(word)[0] if lem in _RESTRICTED_LEMMAS}
        if word in _RESTRICTED_FORMS:
            kinds.add(_RESTRICTED_FORMS[word])
        for kind in kinds:
            restricted.setdefault(word, kind)
    if restricted:
        kinds_found = sorted(set(restricted.values()))
        findings.append(
            Finding(
                RESTRICTED,
                SOFT,
                tuple(restricted),
                f"goods that may not be advertised by SMS/Viber: {', '.join(kinds_found)} "
                "(38-FZ arts. 7, 21, 24, 27)",
            )
        )

    if not sender_known:
        names = [n.strip().lower() for n in identity if n and n.strip()]
        lowered = (text or "").lower()
        if not _URL.search(text or "") and not any(n in lowered for n in names):
            findings.append(
                Finding(
                    NO_SENDER,
                    SOFT,
                    (),
                    "the text does not say who advertises: name the shop"
                    + (f" ({', '.join(sorted(set(names))[:3])})" if names else "")
                    + " or give its web address",
                )
            )

    kept = []
    for f in findings:
        if f.severity == SOFT and (
            (f.rule, "*") in waived
            or (f.words and all((f.rule, w.lower()) in waived for w in f.words))
        ):
            continue
        kept.append(f)
    return tuple(kept)


def advertising_content(
    message: PolicyMessage, facts: RecipientFacts, policy: TenantPolicy, now: datetime
) -> Reason | None:
    """Marketing is checked again at send, on the text as it will go out: an obscene word
    always blocks; a superlative without a source or restricted goods block unless the tenant
    justified exactly those words (TenantPolicy.content_waivers). Sender identification was
    checked when the template was saved; at send the message goes out under a sender name the
    tenant registered, or the gateway account's."""
    if message.category != MARKETING or message.confirmation:
        return None
    return _advertising_reason(message.text, policy.content_waivers)


@lru_cache(maxsize=4096)
def _advertising_reason(text: str, waivers: frozenset[tuple[str, str]]) -> Reason | None:
    """`advertising_content`'s finding for one text and set of waivers.

    Cached: a campaign sends the same text (or a few variants) to every recipient, and reading
    it word by word costs several times a whole decision otherwise. The outcome depends on
    nothing but these two arguments.
    """
    findings = check_advertising(text, sender_known=True, waivers=waivers)
    if not findings:
        return None
    shown = "; ".join(
        f"{f.rule}" + (f" ({', '.join(f.words[:5])})" if f.words else "") for f in findings
    )
    return Reason(CONTENT_RULE, f"advertising rules: {shown}")
