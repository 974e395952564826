"""Reply keyword classification: each case with the reason it is what it is."""

from __future__ import annotations

import pytest

from relay.policy.keywords import HELP, OPT_IN, OPT_OUT, classify

CASES = [
    # (reply, expected kind, all channels, why)
    ("Стоп", OPT_OUT, False, "Russian STOP, case folded"),
    ("STOP!", OPT_OUT, False, "punctuation is ignored"),
    (" stop ", OPT_OUT, False, "spaces are ignored"),
    ("S T O P", OPT_OUT, False, "letters spaced out still spell STOP"),
    ("Отписаться пожалуйста", OPT_OUT, False, "keyword followed only by politeness"),
    ("отписка", OPT_OUT, False, "Russian noun form"),
    ("ХВАТИТ", OPT_OUT, False, "Russian 'enough'"),
    ("Адпіска", OPT_OUT, False, "Belarusian opt-out"),
    ("STOPALL", OPT_OUT, True, "opts out of every channel"),
    ("стоп всё", OPT_OUT, True, "Russian 'stop all', ё folded"),
    ("stop all please", OPT_OUT, True, "stop + all + politeness"),
    ("unsubscribe", OPT_OUT, False, "English"),
    ("stop texting me", OPT_OUT, False, "loose English phrasing"),
    ("Don't text me again", OPT_OUT, False, "loose English phrasing with apostrophe"),
    ("не пишите мне больше", OPT_OUT, False, "loose Russian phrasing"),
    ("Больше не присылайте смс", OPT_OUT, False, "loose Russian phrasing"),
    ("прекратите рассылку", OPT_OUT, False, "loose Russian phrasing"),
    ("START", OPT_IN, False, "English opt-in"),
    ("Старт", OPT_IN, False, "Russian opt-in"),
    ("unstop", OPT_IN, False, "English opt-in"),
    ("помощь", HELP, False, "Russian help"),
    ("INFO", HELP, False, "English info"),
    ("stopwatch", None, False, "contains STOP but is another word"),
    ("не останавливайте доставку", None, False, "a sentence about the order, not opt-out"),
    ("stop by the store tomorrow", None, False, "STOP followed by more than politeness"),
    ("Когда доставка?", None, False, "an ordinary question"),
    ("9, all good", None, False, "a survey answer"),
    ("", None, False, "empty"),
    ("!!!", None, False, "only punctuation"),
]


@pytest.mark.parametrize("text,kind,all_channels,why", CASES, ids=[c[3] for c in CASES])
def test_reply_keywords(text, kind, all_channels, why):
    match = classify(text)
    if kind is None:
        assert match is None, why
    else:
        assert match is not None, why
        assert (match.kind, match.all_channels) == (kind, all_channels), why


def test_tenant_words_add_to_the_lists():
    assert classify("БАСТА") is None
    assert classify("Баста!", {"opt_out": ["баста"]}).kind == OPT_OUT
    assert classify("go", {"opt_in": ["GO"]}).kind == OPT_IN
