"""Every string a person reads in a template is marked for translation.

The test reads each template twice, as Jinja sees it: (1) the template text outside ``{{ }}``/``{% %}``
and outside ``{% trans %}`` blocks is parsed as HTML, and any visible text node or readable attribute
(``title``, ``placeholder``, ``aria-label``, ``alt``, ``label``, a button's ``value``) holding a letter is
an unmarked string; (2) in the template's syntax tree, a string constant that is printed (directly, as
a branch of ``a if c else b``, through ``~`` or ``or``) outside ``_()``/``gettext``/``ngettext`` is one too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

import controller

TEMPLATES = Path(controller.__file__).resolve().parent / "web" / "templates"
ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label", "aria-description", "aria-placeholder"}
MARKERS = {"_", "gettext", "ngettext", "pgettext", "label", "role_label", "quorum_label"}
HOLE = re.compile("\x00(\\d+)\x01")  # stands for the n-th expression in the reconstructed text


def env() -> Environment:
    return Environment(extensions=["jinja2.ext.i18n"], autoescape=True)


#: Names read the same in every language (file formats, units); nothing else is exempt.
SAME_IN_EVERY_LANGUAGE = re.compile(r"\b(CSV|JSON|PDF|XLSX|QR|MQTT|dBm|MB|ms)\b")
#: Blocks whose content is not shown (``<body data-page="{% block page %}">``).
HIDDEN_BLOCKS = {"page"}


def has_letter(text: str) -> bool:
    return any(ch.isalpha() for ch in SAME_IN_EVERY_LANGUAGE.sub("", HOLE.sub("", text)))


def template_text(source: str) -> tuple[str, list[str]]:
    """The template's own text with holes for its printed expressions (outside ``{% trans %}``), and
    the source of each expression."""
    out: list[str] = []
    exprs: list[str] = []
    depth = 0  # inside trans blocks
    hidden: list[bool] = []  # the open blocks, True for a hidden one
    tokens = [t for t in env().lex(source) if t[1] != "whitespace"]
    i = 0
    while i < len(tokens):
        _line, kind, value = tokens[i]
        if kind == "data":
            out.append("" if depth or any(hidden) else value)
        elif kind == "variable_begin":
            parts = []
            i += 1
            while tokens[i][1] != "variable_end":
                parts.append(tokens[i][2])  # raw source: strings keep their quotes
                i += 1
            if not depth:
                out.append(f"\x00{len(exprs)}\x01")
                exprs.append(" ".join(parts))
        elif kind == "block_begin" and i + 1 < len(tokens) and tokens[i + 1][1] == "name":
            name = tokens[i + 1][2]
            if name == "trans":
                depth += 1
            elif name == "endtrans":
                depth -= 1
            elif name == "block":
                hidden.append(tokens[i + 2][2] in HIDDEN_BLOCKS)
            elif name == "endblock" and hidden:
                hidden.pop()
        i += 1
    return "".join(out), exprs


class _Visible(HTMLParser):
    """Collects visible text and readable attributes, and which expression holes they hold."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.holes: set[int] = set()
        self._skip = 0

    def _visible(self, text: str) -> None:
        self.holes.update(int(n) for n in HOLE.findall(text))

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attrs = dict(attrs)
        for name, value in attrs.items():
            readable = name in ATTRIBUTES or (
                name == "value" and tag in ("input", "button") and attrs.get("type") in ("submit", "button")
            )
            if readable and value:
                self._visible(value)
                if has_letter(value):
                    self.found.append(f"<{tag} {name}={HOLE.sub('…', value)!r}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if self._skip:
            return
        self._visible(data)
        if has_letter(data):
            self.found.append(HOLE.sub("…", data.strip()))


def _scan(source: str) -> _Visible:
    text, _exprs = template_text(source)
    parser = _Visible()
    parser.feed(text)
    parser.close()
    return parser


def unmarked_text(source: str) -> list[str]:
    return _scan(source).found


PASS_THROUGH = {"e", "escape", "upper", "lower", "title", "capitalize", "trim", "safe", "string", "default",
                "d"}


def _shown(expr: nodes.Node) -> list[str]:
    """String constants that ``expr`` prints as they are."""
    if isinstance(expr, nodes.Const):
        return [expr.value] if isinstance(expr.value, str) and has_letter(expr.value) else []
    if isinstance(expr, nodes.CondExpr):
        return _shown(expr.expr1) + (_shown(expr.expr2) if expr.expr2 is not None else [])
    if isinstance(expr, nodes.Concat):
        return [s for n in expr.nodes for s in _shown(n)]
    if isinstance(expr, nodes.Or | nodes.Add):
        return _shown(expr.left) + _shown(expr.right)
    if isinstance(expr, nodes.Filter) and expr.name in PASS_THROUGH:
        return _shown(expr.node) + [s for a in expr.args for s in _shown(a)]
    return []  # calls (marked or not), names, attributes, comparisons: not printed constants


def unmarked_constants(source: str) -> list[str]:
    """Constants printed by expressions that sit in visible text or readable attributes."""
    _text, exprs = template_text(source)
    found = []
    for n in sorted(_scan(source).holes):
        tree = env().parse("{{ " + exprs[n] + " }}")
        for output in tree.find_all(nodes.Output):
            for child in output.nodes:
                found += _shown(child)
    return found


def templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_strings_are_marked(path):
    source = path.read_text(encoding="utf-8")
    problems = unmarked_text(source) + [f"{{{{ {c!r} }}}}" for c in unmarked_constants(source)]
    assert problems == [], f"{path.name}: mark these for translation with _() or trans: {problems}"


# --- the checker itself can fail ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "source, found",
    [
        ("<p>Hello</p>", ["Hello"]),
        ("<p>{{ _('Hello') }}</p>", []),
        ('<input placeholder="your name">', ["<input placeholder='your name'>"]),
        ('<input placeholder="{{ _(\'your name\') }}">', []),
        ('<img alt="photo" src="x">', ["<img alt='photo'>"]),
        ('<button type="button" title="refresh">↻</button>', ["<button title='refresh'>"]),
        ("<p>{% trans n=3 %}{{ n }} seats{% endtrans %}</p>", []),
        ("{% block title %}My account{% endblock %}", ["My account"]),
        ("<td>{{ x }} s ago</td>", ["… s ago"]),
        ("<td>{{ '—' }} · 42 %</td>", []),
        ("<script>const a = 'text';</script>", []),
        ("<p>Cost &amp; time</p>", ["Cost & time"]),
    ],
)
def test_checker_finds_unmarked_text(source, found):
    assert unmarked_text(source) == found


@pytest.mark.parametrize(
    "source, found",
    [
        ("<td>{{ 'yes' if ok else 'no' }}</td>", ["yes", "no"]),
        ("{{ _('yes') if ok else _('no') }}", []),
        ("<td>{{ n ~ ' photos' }}</td>", [" photos"]),
        ("<b>{{ x or 'nobody' }}</b>", ["nobody"]),
        ("<td>{{ 'alarm' if a else '' }}</td>", ["alarm"]),
        ('<tr class="{{ \'alarm\' if a else \'\' }}">', []),
        ('<td title="{{ \'never\' if a else x }}">', ["never"]),
        ("{{ url_for('main.page') }}", []),
        ("{{ items|join(', ') }}", []),
        ("{{ 'a' == b }}", []),
        ("{{ label('role', r) }}", []),
    ],
)
def test_checker_finds_printed_constants(source, found):
    assert unmarked_constants(source) == found
