"""The draft as the secretariat receives it: a plain-text template in Vietnamese (or English).

Headings and notes are translatable (:mod:`.i18n`); the sentences are the delegates' own, each followed
by its reference ``[delegate · delegation · kind source, characters a–b, place]`` so an editor can check
it against the source. Themes come in order of the number of delegates who raised them; contributions
that were not analysed are listed at the end with the reason, so none disappears from the record.
"""

from __future__ import annotations

from congress.i18n import N_, Gettext

from .i18n import gettext_for, render
from .records import IntakeStatus, SourceRef, Synthesis

STATUS_LABELS = {
    IntakeStatus.ANALYSED: N_("analysed"),
    IntakeStatus.DUPLICATE: N_("duplicate"),
    IntakeStatus.EMPTY: N_("empty"),
    IntakeStatus.TOO_LARGE: N_("too large"),
    IntakeStatus.NOT_VIETNAMESE: N_("not Vietnamese"),
    IntakeStatus.UNREADABLE: N_("unreadable"),
}


def reference(ref: SourceRef) -> str:
    """``[delegate · delegation · kind source, a–b, place]``."""
    parts = [ref.delegate_id]
    if ref.delegation:
        parts.append(ref.delegation)
    where = f"{ref.source_kind.value} {ref.source_id}, {ref.start}–{ref.end}"
    if ref.place:
        where += f", {ref.place}"
    parts.append(where)
    return "[" + " · ".join(parts) + "]"


def render_draft(s: Synthesis, language: str = "vi", gettext: Gettext | None = None) -> str:
    """The draft text of ``s`` in ``language``, or through ``gettext`` if given (a page's Flask-Babel)."""
    g = gettext or gettext_for(language)
    analysed = sum(1 for r in s.intake if r.status is IntakeStatus.ANALYSED)
    lines = [
        render(N_("Synthesis of the contributions"), None, g),
        render(N_("Agenda item: %(item)s"), {"item": s.item_id}, g),
        "",
        render(
            N_(
                "DRAFT for the secretariat to edit. Every sentence below is quoted word for word from a "
                "contribution; the reference in brackets names its delegate and source."
            ),
            None,
            g,
        ),
        render(
            N_("%(received)d contributions received, %(analysed)d analysed, from %(delegates)d delegates."),
            {"received": len(s.intake), "analysed": analysed, "delegates": s.stats.get("delegates", 0)},
            g,
        ),
    ]
    by_theme: dict[int, list[SourceRef]] = {}
    for d in s.draft:
        by_theme.setdefault(d.theme_id, []).append(d.source)
    themes = {t.theme_id: t for t in s.themes}
    singles = []
    for theme_id in sorted(by_theme):
        t = themes[theme_id]
        if t.delegate_count < 2:
            singles.append(theme_id)
            continue
        lines += [
            "",
            render(
                N_("Theme %(number)d: %(label)s (raised by %(count)d delegates)"),
                {"number": theme_id, "label": t.label, "count": t.delegate_count},
                g,
            ),
        ]
        lines += [f"- {ref.text} {reference(ref)}" for ref in by_theme[theme_id]]
    if singles:
        lines += ["", render(N_("Other points raised by one delegate each"), None, g)]
        lines += [f"- {ref.text} {reference(ref)}" for tid in singles for ref in by_theme[tid]]
    refused = [r for r in s.intake if r.status not in (IntakeStatus.ANALYSED, IntakeStatus.DUPLICATE)]
    if refused:
        lines += ["", render(N_("Not analysed"), None, g)]
        lines += [
            f"- {r.source_id} ({r.delegate_id}): {render(STATUS_LABELS[r.status], None, g)}: "
            f"{render(r.message, r.params, g)}"
            for r in refused
        ]
    return "\n".join(lines) + "\n"
