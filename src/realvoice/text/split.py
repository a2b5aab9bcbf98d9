"""Split text into sentences, and over-long sentences at commas, so each fits the model."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?…])[\"”')\]]*\s+|\n{2,}|\n(?=\S)")


def split_sentences(text: str, max_chars: int = 300) -> list[str]:
    """Sentences in order; any longer than ``max_chars`` are cut at commas, then at spaces."""
    out: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE.split(text)):
        if not sentence:
            continue
        out.extend(_cut(sentence, max_chars))
    return out


def _cut(s: str, max_chars: int) -> list[str]:
    if len(s) <= max_chars:
        return [s]
    pieces, current = [], ""
    for part in re.split(r"(?<=[,;:—])\s+", s):
        if current and len(current) + len(part) + 1 > max_chars:
            pieces.append(current)
            current = part
        else:
            current = f"{current} {part}".strip()
    if current:
        pieces.append(current)
    final: list[str] = []
    for p in pieces:
        while len(p) > max_chars:
            cut = p.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            final.append(p[:cut].strip())
            p = p[cut:].strip()
        if p:
            final.append(p)
    return final
