"""Message templates: Jinja2's sandboxed environment, so a tenant's template cannot reach
Python internals, and undefined names are errors instead of silently empty text."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateError, Undefined, nodes
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SandboxedEnvironment


class PrintStrictUndefined(Undefined):
    """Missing data is falsy, so `{{ customer.name or 'Здравствуйте' }}` and `default()` work,
    but printing it is an error: a message must never go out with a silent hole in it."""

    __slots__ = ()

    def __str__(self) -> str:
        self._fail_with_undefined_error()
        return ""  # unreachable: the call above raises

    def __iter__(self) -> Iterator[Any]:
        self._fail_with_undefined_error()


_ENV = SandboxedEnvironment(undefined=PrintStrictUndefined, autoescape=False, trim_blocks=True)


class TemplateRenderError(ValueError):
    """A template that does not compile or cannot render with the data given."""


@lru_cache(maxsize=1024)
def _compile(source: str) -> Template:
    template = _ENV.from_string(source)
    # Jinja keeps a template's globals as a ChainMap over the environment's, and each render
    # copies them into its context twice: for a short message, more work than the rendering.
    # Nothing changes the globals of this module's environment, so a plain dict of them holds
    # the same names.
    template.globals = dict(template.globals)
    return template


# what may appear in a template whose text is the same whatever the data
_STATIC_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const)


@lru_cache(maxsize=1024)
def _static(source: str) -> str | None:
    """The rendered text of a template that reads no data (plain text, literals); None for
    any other. A campaign renders such a template once instead of once per recipient."""
    try:
        tree = _ENV.parse(source)
    except TemplateError:
        return None
    if not all(isinstance(node, _STATIC_NODES) for node in tree.find_all(nodes.Node)):
        return None
    return _render(source, {})


def check_template(source: str) -> None:
    """Raise TemplateRenderError if `source` is not valid template syntax."""
    try:
        _compile(source)
    except TemplateError as exc:
        raise TemplateRenderError(f"template syntax error: {exc}") from exc


def render(source: str, context: dict[str, Any]) -> str:
    """Render `source` with `context`; whitespace at the ends is trimmed."""
    static = _static(source)
    if static is not None:
        return static
    return _render(source, context)


def _render(source: str, context: dict[str, Any]) -> str:
    """`render` without the shortcut for templates that read no data."""
    try:
        return _compile(source).render(**context).strip()
    except (TemplateError, UndefinedError) as exc:
        raise TemplateRenderError(f"template cannot be rendered: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateRenderError(f"template cannot be rendered: {exc}") from exc
