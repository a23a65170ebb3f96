"""Translatable strings of the synthesis: marked with ``_`` where they are written, rendered where read.

``_`` only marks a message id (English) for extraction into the catalogues; records keep the id and
its parameters, and :func:`render` formats them in the reader's language through a ``gettext``
callable. Until the project's catalogues cover the synthesis, :func:`gettext_for` falls back to the
small Vietnamese table below for the draft template and the intake statuses, so a draft comes out in
Vietnamese on a venue machine from the first run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Gettext = Callable[[str], str]


def _(msgid: str) -> str:
    """Mark ``msgid`` for translation; returns it unchanged (rendering happens later)."""
    return msgid


_DRAFT_NOTE = (
    "DRAFT for the secretariat to edit. Every sentence below is quoted word for word from a "
    "contribution; the reference in brackets names its delegate and source."
)
_VIETNAMESE = {
    "Synthesis of the contributions": "Tổng hợp ý kiến đóng góp",
    "Agenda item: %(item)s": "Nội dung: %(item)s",
    _DRAFT_NOTE: (
        "DỰ THẢO để Ban Thư ký biên tập. Mỗi câu dưới đây được trích nguyên văn từ một ý kiến đóng góp; "
        "phần trong ngoặc vuông ghi đại biểu và nguồn."
    ),
    "%(received)d contributions received, %(analysed)d analysed, from %(delegates)d delegates.": (
        "Đã nhận %(received)d ý kiến, phân tích %(analysed)d ý kiến của %(delegates)d đại biểu."
    ),
    "Theme %(number)d: %(label)s (raised by %(count)d delegates)": (
        "Vấn đề %(number)d: %(label)s (%(count)d đại biểu nêu)"
    ),
    "Other points raised by one delegate each": "Các ý kiến khác (mỗi ý kiến do một đại biểu nêu)",
    "Not analysed": "Không phân tích",
    "analysed": "đã phân tích",
    "duplicate": "trùng lặp",
    "empty": "trống",
    "too large": "quá dài",
    "not Vietnamese": "không phải tiếng Việt",
    "unreadable": "không đọc được",
    "no text: nothing to analyse": "không có nội dung để phân tích",
    "the file cannot be read: %(reason)s": "không đọc được tệp: %(reason)s",
    "analysed; the import noted: %(notes)s": "đã phân tích; ghi chú khi nhập: %(notes)s",
}


def gettext_for(language: str, catalogue: Gettext | None = None) -> Gettext:
    """A ``gettext`` for ``language`` (``vi`` or ``en``): the catalogue's if given, else the fallback."""
    if catalogue is not None:
        return catalogue
    if language.startswith("vi"):
        return lambda msgid: _VIETNAMESE.get(msgid, msgid)
    return lambda msgid: msgid


def render(msgid: str, params: Mapping[str, Any] | None = None, gettext: Gettext | None = None) -> str:
    """``msgid`` translated by ``gettext`` (identity if None) and formatted with ``params``."""
    text = (gettext or (lambda m: m))(msgid)
    return text % dict(params) if params else text
