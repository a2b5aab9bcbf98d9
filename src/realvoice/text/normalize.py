"""English text normalisation: numbers, money, percentages, ordinals, times, abbreviations, symbols."""

from __future__ import annotations

import re
import unicodedata

from num2words import num2words

_ABBREVIATIONS = {
    "Dr.": "Doctor",
    "Mr.": "Mister",
    "Mrs.": "Missus",
    "Ms.": "Miz",
    "Prof.": "Professor",
    "St.": "Saint",
    "Jr.": "Junior",
    "Sr.": "Senior",
    "vs.": "versus",
    "etc.": "et cetera",
    "e.g.": "for example",
    "i.e.": "that is",
    "approx.": "approximately",
    "Mt.": "Mount",
    "No.": "number",
}
_SYMBOLS = {
    "&": " and ",
    "%": " percent",
    "+": " plus ",
    "=": " equals ",
    "@": " at ",
    "#": " number ",
    "°C": " degrees Celsius",
    "°F": " degrees Fahrenheit",
    "°": " degrees",
}
_CURRENCIES = {"$": ("dollar", "cent"), "£": ("pound", "penny"), "€": ("euro", "cent")}


def _money(m: re.Match[str]) -> str:
    unit, sub = _CURRENCIES[m.group(1)]
    whole = int(m.group(2).replace(",", ""))
    cents = int((m.group(3) or "0").ljust(2, "0")[:2])
    scale = m.group(4)
    words = num2words(whole)
    if scale:
        return f"{words} {scale} {unit}s"
    out = f"{words} {unit}{'' if whole == 1 else 's'}"
    if cents:
        subs = "pence" if sub == "penny" and cents != 1 else sub + ("" if cents == 1 else "s")
        out += f" and {num2words(cents)} {subs}"
    return out


def _time(m: re.Match[str]) -> str:
    h, mins = int(m.group(1)), int(m.group(2))
    suffix = (m.group(3) or "").replace(".", "").lower()
    spoken = num2words(h)
    if mins == 0:
        spoken += " o'clock" if not suffix else ""
    elif mins < 10:
        spoken += f" oh {num2words(mins)}"
    else:
        spoken += f" {num2words(mins)}"
    return spoken + (f" {' '.join(suffix.upper())}" if suffix else "")


def _number(m: re.Match[str]) -> str:
    text = m.group(0).replace(",", "")
    if "." in text:
        whole, frac = text.split(".", 1)
        return f"{num2words(int(whole or 0))} point {' '.join(num2words(int(d)) for d in frac)}"
    n = int(text)
    if 1100 <= n <= 2099 and len(text) == 4 and n % 100 != 0 or 1900 <= n <= 1999:
        return num2words(n, to="year")
    return num2words(n)


def normalize(text: str) -> str:
    """Rewrite text so every word can be read aloud; drops emoji and control characters."""
    t = unicodedata.normalize("NFKC", text)
    t = "".join(ch for ch in t if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    t = "".join(ch for ch in t if unicodedata.category(ch) != "So")  # emoji and pictographs
    t = re.sub(r"https?://(www\.)?([^\s/]+)\S*", lambda m: m.group(2).replace(".", " dot "), t)
    t = re.sub(r"\b([\w.+-]+)@([\w-]+)\.([a-z]{2,})\b", r"\1 at \2 dot \3", t)
    for abbr, full in _ABBREVIATIONS.items():
        t = re.sub(rf"(?<!\w){re.escape(abbr)}", full, t)
    t = re.sub(r"([$£€])\s?(\d[\d,]*)(?:\.(\d+))?(?:\s?(thousand|million|billion|trillion))?", _money, t)
    t = re.sub(r"\b(\d{1,2}):(\d{2})(?:\s?([ap]\.?m)\b)?", _time, t, flags=re.I)
    t = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: num2words(int(m.group(1)), to="ordinal"), t)
    t = re.sub(r"(\d)\s?%", r"\1 percent", t)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"\d+(?:,\d{3})*(?:\.\d+)?", _number, t)
    t = re.sub(r"[ \t]+", " ", t)
    return t.strip()
