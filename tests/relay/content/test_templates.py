"""Message templates: a template that reads no data is rendered once, every other one per
call with the environment's names (range, dict …) at hand, and missing data stays an error."""

from __future__ import annotations

import pytest
from jinja2 import Template

from relay.content.templates import TemplateRenderError, render


@pytest.fixture
def renders(monkeypatch):  # type: ignore[no-untyped-def]
    """Counts Jinja's renders."""
    calls: list[str] = []
    original = Template.render

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(self.name or "")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Template, "render", counted)
    return calls


def test_a_template_that_reads_no_data_is_rendered_once(renders):
    source = "  Скидка 10% {{ 'до пятницы' }}{# для всех #}!\n"
    texts = {render(source, {"contact": {"name": f"Клиент {i}"}}) for i in range(5)}
    assert texts == {"Скидка 10% до пятницы!"}
    assert len(renders) <= 1


@pytest.mark.parametrize(
    ("source", "data", "text"),
    [
        ("{{ contact.name or 'Здравствуйте' }}!", {"contact": {"name": "Ян"}}, "Ян!"),
        ("{{ contact.name or 'Здравствуйте' }}!", {"contact": {}}, "Здравствуйте!"),
        ("{{ range(3) | list }}", {}, "[0, 1, 2]"),
        ("{{ dict(a=1) }}", {}, "{'a': 1}"),
    ],
)
def test_a_template_that_reads_data_or_names_is_rendered_each_time(renders, source, data, text):
    assert [render(source, data) for _ in range(3)] == [text] * 3
    assert len(renders) == 3


def test_a_filter_with_its_own_choice_is_rendered_each_time(renders):
    for _ in range(4):
        assert render("{{ ['a', 'b'] | random }}", {}) in ("a", "b")
    assert len(renders) == 4


def test_missing_data_and_bad_syntax_stay_errors():
    with pytest.raises(TemplateRenderError, match="no attribute .name."):
        render("Привет, {{ contact.name }}", {"contact": {}})
    with pytest.raises(TemplateRenderError):
        render("Привет, {{ ", {})
