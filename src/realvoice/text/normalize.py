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
        frac = f" point {' '.join(num2words(int(d)) for d in m.group(3))}" if m.group(3) else ""
        return f"{words}{frac} {scale} {unit}s"
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


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_UNITS = {
    "km": "kilometers",
    "m": "meters",
    "cm": "centimeters",
    "mm": "millimeters",
    "kg": "kilograms",
    "g": "grams",
    "mg": "milligrams",
    "lb": "pounds",
    "lbs": "pounds",
    "oz": "ounces",
    "ft": "feet",
    "mi": "miles",
    "mph": "miles per hour",
    "km/h": "kilometers per hour",
    "kph": "kilometers per hour",
    "l": "liters",
    "ml": "milliliters",
    "gb": "gigabytes",
    "mb": "megabytes",
    "kb": "kilobytes",
    "tb": "terabytes",
    "ghz": "gigahertz",
    "mhz": "megahertz",
    "khz": "kilohertz",
    "hz": "hertz",
    "kw": "kilowatts",
    "w": "watts",
    "v": "volts",
    "ms": "milliseconds",
    "s": "seconds",
    "min": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "in": "inches",
}
_SINGULAR = {"feet": "foot", "inches": "inch", "hertz": "hertz", "miles per hour": "mile per hour"}


def _date(m: re.Match[str]) -> str:
    """US order: 12/05/2024 is December fifth, twenty twenty-four."""
    month, day, year = int(m.group(1)), int(m.group(2)), m.group(3)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    spoken = f"{_MONTHS[month - 1]} {num2words(day, to='ordinal')}"
    if year:
        y = int(year) + (2000 if len(year) == 2 else 0)
        spoken += f", {num2words(y, to='year')}"
    return spoken


def _iso_date(m: re.Match[str]) -> str:
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{_MONTHS[month - 1]} {num2words(day, to='ordinal')}, {num2words(year, to='year')}"


def _phone(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    groups = [digits[:-7], digits[-7:-4], digits[-4:]] if len(digits) > 7 else [digits[:3], digits[3:]]
    return ", ".join(" ".join(num2words(int(d)).replace("zero", "oh") for d in g) for g in groups if g)


def _unit(m: re.Match[str]) -> str:
    value, unit = m.group(1), _UNITS[m.group(2).lower()]
    if value in ("1", "1.0"):
        unit = _SINGULAR.get(unit, unit[:-1] if unit.endswith("s") else unit)
    return f"{value} {unit}"


def _number(m: re.Match[str]) -> str:
    text = m.group(0).replace(",", "")
    if "." in text:
        whole, frac = text.split(".", 1)
        return f"{num2words(int(whole or 0))} point {' '.join(num2words(int(d)) for d in frac)}"
    n = int(text)
    looks_like_year = "," not in m.group(0) and len(text) == 4
    if looks_like_year and (1100 <= n <= 2099 and n % 100 != 0 or 1900 <= n <= 1999):
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
    t = re.sub(r"\b(\d{4})-(\d{2})-(\d{2})\b", _iso_date, t)
    t = re.sub(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b", _date, t)
    t = re.sub(r"(?<!\w)(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b", _phone, t)
    t = re.sub(r"\b(\d{1,2}):(\d{2})(?:\s?([ap]\.?m)\b)?", _time, t, flags=re.I)
    t = re.sub(
        r"\b(\d{1,2})\s?([ap])\.?m\b", lambda m: f"{num2words(int(m.group(1)))} {m.group(2).upper()} M", t, flags=re.I
    )
    units = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
    t = re.sub(rf"\b(\d+(?:\.\d+)?)\s?({units})\b(?!')", _unit, t, flags=re.I)
    t = re.sub(r"\b(\d+)\s?(?:-|–|to)\s?(\d+)\b", r"\1 to \2", t)
    t = re.sub(r"(?<![\w.])-(\d)", r"minus \1", t)
    t = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: num2words(int(m.group(1)), to="ordinal"), t)
    t = re.sub(r"(\d)\s?%", r"\1 percent", t)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"\d+(?:,\d{3})*(?:\.\d+)?", _number, t)
    t = re.sub(r"[ \t]+", " ", t)
    return t.strip()
