"""The opt-out recogniser: the issue's phrasings, negation, look-alikes, bad input, and the
corpus figures (precision, recall, zero false opt-outs on look-alikes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.policy.keywords import OPT_IN, OPT_OUT
from relay.policy.optout import UNSURE, understand
from tests.relay.policy import optout_metrics

MUST_CATCH = [
    "хватит спамить",
    "Прекратите присылать мне сообщения",
    "Удалите мой номер из рассылки",
    "Отказываюсь от рассылки",
    "спыніце",
    "Отписаться, рахмет",
    "Remove me from your list",
    "Stop sending me this crap",
    # every form of the verb, through the lemma
    "прекратите",
    "прекращайте",
    "прекратить",
    "удалите",
    "удалить",
    "отпишите",
    "отписаться",
]


@pytest.mark.parametrize("text", MUST_CATCH)
def test_the_issues_phrasings_are_opt_outs(text):
    assert understand(text).kind == OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "не отписывайте",
        "Не отписывайте меня, пожалуйста",
        "don't stop",
        "Please don't remove me",
        "не удаляйте мой номер",
        "I don't want to unsubscribe",
    ],
)
def test_negation_is_not_an_opt_out(text):
    assert understand(text).kind not in (OPT_OUT, UNSURE)


@pytest.mark.parametrize(
    "text",
    [
        "Стоп, а где мой заказ?",
        "Отмените заказ",
        "stop by our store",
        "Удалите товар из корзины",
        "Остановите доставку",
        "Хватит ли одной упаковки?",
        "стопка тарелок разбита",
    ],
)
def test_lookalikes_are_ordinary_replies(text):
    assert understand(text).kind is None


def test_unsure_replies_are_marked_for_review():
    for text in ("спам", "это спам", "Удалите меня пожалуйста из группы"):
        assert understand(text).kind == UNSURE, text


def test_opt_in_in_own_words():
    assert understand("Подпишите меня обратно").kind == OPT_IN
    assert understand("Хочу снова получать рассылку").kind == OPT_IN


def test_tenant_words_still_work_and_bad_ones_do_not_break_it():
    assert understand("баста", {"opt_out": ["баста"]}).kind == OPT_OUT
    assert understand("стоп", {"opt_out": [1, None]}).kind == OPT_OUT  # type: ignore[list-item]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🙂🙂🙂",
        "\x00\x00",
        "STOP\x00".replace("STOP", "ok"),
        "a" * 1600,
        "Привет " * 230,
        "中文短信测试",
        "مرحبا",
        "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        "\ufffd\ufffd",
        "ʕ•ᴥ•ʔ",
    ],
)
def test_bad_input_is_an_ordinary_reply_never_an_error(text):
    assert understand(text).kind is None


def test_a_long_reply_is_read_quickly():
    import time

    text = ("Здравствуйте, хочу сказать, что доставка была долгой. " * 30)[:1600]
    started = time.perf_counter()
    for _ in range(20):
        understand(text)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("name", ["optout_corpus.tsv", "optout_heldout.tsv"])
def test_corpus_figures(name, monkeypatch, capsys):
    monkeypatch.setattr(optout_metrics, "CORPUS", Path(optout_metrics.CORPUS).parent / name)
    figures = optout_metrics.evaluate()
    with capsys.disabled():
        print(f"\n{name}\n" + optout_metrics.report(figures))
    assert figures.size >= (300 if name == "optout_corpus.tsv" else 50)
    assert figures.lookalike_opt_outs == []  # the hard rule
    assert figures.precision == 1.0
    assert figures.recall >= 0.98
    assert figures.false_opt_ins == []
