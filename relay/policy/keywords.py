"""Reply keywords: opt-out, opt-in and help, in Russian, Belarusian and English.

Pure and conservative. A reply is a keyword when, after case, space and punctuation folding,
it IS a keyword ("Стоп", " stop ", "STOP!"), or starts with one followed only by politeness
("Отписаться пожалуйста"), or is one of a few loose opt-out phrasings ("stop texting",
"не пишите мне больше"). Words merely containing a keyword ("stopwatch") or sentences that use
the verb otherwise ("не останавливайте доставку") are not keywords. The full lists are in
docs/replies.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

OPT_OUT, OPT_IN, HELP = "opt_out", "opt_in", "help"

OPT_OUT_WORDS = frozenset(
    {
        # English
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
        "revoke",
        # Russian
        "стоп",
        "отписка",
        "отписаться",
        "отписать",
        "отпишите",
        "хватит",
        "стопвсе",
        "отказ",
        "нехочу",
        # Belarusian
        "адпiска",
        "адпіска",
        "адпісацца",
        "адпiсацца",
        "хопiць",
        "хопіць",
        "спынiць",
        "спыніць",
    }
)
# words that opt out of EVERY channel, not just the one the reply came on
ALL_CHANNEL_WORDS = frozenset({"stopall", "стопвсе"})
OPT_IN_WORDS = frozenset(
    {"start", "unstop", "yes", "subscribe", "старт", "подписаться", "падпісацца", "падпiсацца"}
)
HELP_WORDS = frozenset({"help", "info", "помощь", "справка", "дапамога", "інфо", "инфо"})
# may follow a keyword without changing its meaning
POLITE = frozenset(
    {
        "please",
        "pls",
        "plz",
        "thanks",
        "thank",
        "you",
        "me",
        "now",
        "all",
        "пожалуйста",
        "плиз",
        "пож",
        "спасибо",
        "меня",
        "мне",
        "все",
        "всё",
        "сейчас",
        "срочно",
        "калі",
        "ласка",
        "дзякуй",
        "мяне",
    }
)
LOOSE_OPT_OUT = tuple(
    re.compile(p)
    for p in (
        r"^(please )?stop (texting|messaging|sending|sms|spamming)( me)?( please)?$",
        r"^(please )?(don ?t|do not) (text|message|sms) me( again| anymore)?( please)?$",
        r"^unsubscribe me( please)?$",
        r"^(пожалуйста )?(не|больше не) (пишите|присылайте|отправляйте)( мне)?( больше| смс| sms)*"
        r"( пожалуйста)?$",
        r"^(пожалуйста )?отпишите меня( от (рассылки|смс|sms))?( пожалуйста)?$",
        r"^(прекратите|остановите) (рассылку|спам|писать)( пожалуйста)?$",
        r"^(хватит|перестаньте) (писать|присылать|слать)( мне)?( смс| sms)?( пожалуйста)?$",
        r"^не хочу (получать )?(смс|sms|сообщения|рассылку)$",
        r"^(не пішыце|не дасылайце)( мне)?( больш)?$",
    )
)


@dataclass(frozen=True)
class KeywordMatch:
    """What a reply is, and why."""

    kind: str  # OPT_OUT | OPT_IN | HELP
    all_channels: bool
    matched: str
    why: str


def fold(text: str) -> str:
    """Lower-case, ё→е, letters and digits only, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


def _kind_of(word: str, extra: dict[str, frozenset[str]]) -> str | None:
    if word in OPT_OUT_WORDS or word in extra.get(OPT_OUT, ()):
        return OPT_OUT
    if word in OPT_IN_WORDS or word in extra.get(OPT_IN, ()):
        return OPT_IN
    if word in HELP_WORDS or word in extra.get(HELP, ()):
        return HELP
    return None


def classify(
    text: str, tenant_words: dict[str, Iterable[str]] | None = None
) -> KeywordMatch | None:
    """Classify a reply; None when it is not a keyword (an ordinary reply)."""
    extra = {
        k: frozenset(fold(w).replace(" ", "") for w in v) for k, v in (tenant_words or {}).items()
    }
    folded = fold(text or "")
    if not folded:
        return None
    joined = folded.replace(" ", "")
    kind = _kind_of(joined, extra)
    if kind:  # "S T O P", "stop all", "Стоп!"
        return KeywordMatch(kind, joined in ALL_CHANNEL_WORDS, joined, "the whole reply")
    words = folded.split()
    kind = _kind_of(words[0], extra)
    if kind and len(words) <= 4 and all(w in POLITE for w in words[1:]):
        all_ch = words[0] in ALL_CHANNEL_WORDS or (kind == OPT_OUT and "all" in words[1:])
        return KeywordMatch(kind, all_ch, words[0], "keyword followed by politeness")
    for pattern in LOOSE_OPT_OUT:
        if pattern.match(folded):
            return KeywordMatch(OPT_OUT, False, folded, "loose opt-out phrasing")
    return None
