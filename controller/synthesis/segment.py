"""Sentences with exact offsets, and their words, from underthesea's Vietnamese models.

underthesea's sentence splitter works on a block of text and returns stripped sentences; each is found
back in the text from a moving cursor, so every sentence is ``text[start:end]`` exactly. Line breaks
end a sentence (headings, list items). A run-on "sentence" (transcripts often lack punctuation) is cut
into pieces of about :data:`MAX_SYLLABLES` syllables at a comma or semicolon where there is one, else at
a space. Salutations and closing formulas of speeches (``Kính thưa Đoàn Chủ tịch``, ``Xin trân trọng
cảm ơn``) are marked *procedural*: they are kept in the text but raise no theme and enter no draft.

Word segmentation joins syllables into words (``giáo dục``); the words, lower-cased and without
punctuation, feed the lexical vectors and the theme labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SYLLABLES = 60
MIN_SYLLABLES = 4  # shorter sentences ("Tôi đồng ý.") count for no theme on their own

_SYLLABLE = re.compile(r"\w+")
_WORDLIKE = re.compile(r"\w")
_PROCEDURAL = re.compile(
    r"^\W*(?:(?:kính\s+)?thưa|kính\s+gửi|xin\s+(?:trân\s+trọng\s+)?(?:chân\s+thành\s+)?cảm\s+ơn|"
    r"(?:tôi|em|chúng\s+tôi)\s+xin\s+(?:hết|dừng|kết\s+thúc|cảm\s+ơn)|xin\s+chào|chúc\s+(?:đại\s+hội|hội\s+nghị)|"
    r"cảm\s+ơn\s+(?:đoàn|chủ\s+tọa|quý|các)|"
    r"(?:dear|thank\s+you))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Span:
    """A sentence of a text: ``text[start:end]``; ``procedural`` for salutations and formulas."""

    start: int
    end: int
    procedural: bool = False


def syllable_count(text: str) -> int:
    """Number of ``\\w+`` runs (syllables, numbers)."""
    return len(_SYLLABLE.findall(text))


def is_procedural(sentence: str) -> bool:
    """Salutation, thanks or closing formula of a speech."""
    return bool(_PROCEDURAL.match(sentence)) and syllable_count(sentence) <= 25


def _cut(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of at most about ``limit`` syllables."""
    pieces = []
    while True:
        marks = [m for m in _SYLLABLE.finditer(text, start, end)]
        if len(marks) <= limit * 1.3:
            pieces.append((start, end))
            return pieces
        hard = marks[limit].start()  # the syllable after the limit
        soft = max(
            text.rfind(",", marks[limit // 2].end(), hard), text.rfind(";", marks[limit // 2].end(), hard)
        )
        cut = soft + 1 if soft > 0 else marks[limit - 1].end()
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1


class Segmenter:
    """underthesea's sentence and word segmentation (models inside the wheel; nothing downloaded)."""

    def __init__(self) -> None:
        from underthesea import sent_tokenize, word_tokenize
        from underthesea.datasets.stopwords import words as stopwords

        self._sent_tokenize = sent_tokenize
        self._word_tokenize = word_tokenize
        self.stopwords = frozenset(w.strip() for w in stopwords if w.strip())

    def sentences(self, text: str, max_syllables: int = MAX_SYLLABLES) -> list[Span]:
        """Sentences of ``text`` as exact spans, in order."""
        spans: list[Span] = []
        for block in re.finditer(r"[^\n]+", text):
            cursor = block.start()
            for sentence in self._sent_tokenize(block.group()):
                at = text.find(sentence, cursor, block.end())
                if at < 0:  # the splitter changed the text: take the rest of the block as it is
                    rest = text[cursor : block.end()]
                    sentence = rest.strip()
                    if not sentence:
                        break
                    at = cursor + len(rest) - len(rest.lstrip())
                end = at + len(sentence)
                for a, b in _cut(text, at, end, max_syllables):
                    if _WORDLIKE.search(text, a, b):
                        spans.append(Span(a, b, is_procedural(text[a:b])))
                cursor = end
        return spans

    def words(self, sentence: str) -> list[str]:
        """Lower-cased words of a sentence (syllables of one word joined by ``_``), punctuation dropped."""
        return [w.lower().replace(" ", "_") for w in self._word_tokenize(sentence) if _WORDLIKE.search(w)]
