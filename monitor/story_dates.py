"""The day an article's opening says its event happened (pure).

Follow-ups share every name with the event they follow (a ship seized, then released;
one side admits a deployment, then the other), so rare shared facts cannot tell them from
retellings. What differs is the day the lede gives: "on Tuesday", "5 January", "16日",
"5 января". Two articles whose openings name different days tell different events.

The first day named in the opening counts, and only one written without a year:
"5 January 2024" or "2024年1月5日" is far more often a dateline or a publication stamp
than the event. Weekdays and "yesterday" resolve against the publication date; a day of
the month resolves to the latest such date not after the publication (plus a day of
slack for time zones). A day that resolves more than ``MAX_BACK_DAYS`` before the
publication is dropped: background, not the news.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

OPENING_CHARS = 600
MAX_BACK_DAYS = 10


def _numbered(rows: tuple[str, ...], start: int) -> dict[str, int]:
    """Each name of row ``k`` (space-separated, every language) -> ``start + k``."""
    return {name: number for number, row in enumerate(rows, start) for name in row.split()}


_MONTHS = _numbered(
    (
        "january jan januar janvier enero января січня gennaio",
        "february feb februar février fevrier febrero февраля лютого febbraio",
        "march mar märz maerz mars marzo марта березня",
        "april apr avril abril апреля квітня aprile",
        "may mai mayo мая травня maggio",
        "june jun juni juin junio июня червня giugno",
        "july jul juli juillet julio июля липня luglio",
        "august aug août aout agosto августа серпня",
        "september sep sept septembre septiembre setiembre сентября вересня settembre",
        "october oct oktober octobre octubre октября жовтня ottobre",
        "november nov novembre noviembre ноября листопада",
        "december dec dezember décembre decembre diciembre декабря грудня dicembre",
    ),
    start=1,
)
_WEEKDAYS = _numbered(
    (
        "monday montag lundi lunes понедельник понеділок 월요일 月曜日 星期一 周一 週一",
        "tuesday dienstag mardi martes вторник вівторок 화요일 火曜日 星期二 周二 週二",
        "wednesday mittwoch mercredi miércoles miercoles 수요일 水曜日 星期三 周三 週三",
        "thursday donnerstag jeudi jueves четверг четвер 목요일 木曜日 星期四 周四 週四",
        "friday freitag vendredi viernes пятницу пʼятницю п'ятницю 금요일 金曜日 星期五 周五 週五",
        "saturday samstag samedi sábado sabado субботу суботу 토요일 土曜日 星期六 周六 週六",
        "sunday sonntag dimanche domingo воскресенье неділю 일요일 日曜日 星期日 星期天 周日 週日",
    ),
    start=0,
)

# Russian "среду" alone is also "environment" (окружающую среду): Wednesday only after
# its preposition.
_WEEKDAYS.update({"в среду": 2, "в середу": 2, "у середу": 2})
# Not the French "hier": German "hier" is "here".
_YESTERDAY = frozenset(["yesterday", "gestern", "ayer", "вчера", "вчора", "어제", "昨日", "昨天"])

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")


def _trie(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, as a character trie ("mar(?:ch|s|zo)?"...): an
    alternation of a hundred names costs a hundred attempts at every position of the
    text, the trie one branch per character."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        if "" in node:
            return "(?:" + "|".join(branches) + ")?"
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root)


def _alternatives(names: Iterable[str]) -> str:
    """A regex of ``names``: one in Latin or Cyrillic letters must stand as a whole word,
    a CJK or Hangul one (written onto its neighbours) need not."""
    names = list(names)
    words = [n for n in names if not _CJK.search(n)]
    cjk = [n for n in names if _CJK.search(n)]
    parts = [f"{_first(words)}(?<!\\w)(?:{_trie(words)})(?!\\w)" if words else ""]
    parts.append(f"{_first(cjk)}(?:{_trie(cjk)})" if cjk else "")
    return "|".join(p for p in parts if p)


def _first(words: Iterable[str], digits: str = "") -> str:
    """A lookahead for the first letters of ``words`` (and ``digits``, a class such as
    ``\\d``): a cheap test at every position before the costlier ones."""
    return "(?=[" + digits + "".join(sorted({re.escape(w[0]) for w in words})) + "])"


_MONTH_ALT = _trie(_MONTHS)
_WEEKDAY_ALT = _alternatives(_WEEKDAYS)
_YESTERDAY_ALT = _alternatives(_YESTERDAY)
_YEAR_AFTER = r"(?!\.?,?\s*(?:de\s+)?\d{4})(?!\s*г(?:ода|\.))(?!\s*року)"

# Each alternative names its groups: cjk (month?, day), ko (month?, day), mname + mday,
# dday + dname, wd (weekday), y (yesterday).
_DAY = re.compile(
    _first([*_MONTHS, *_WEEKDAYS, *_YESTERDAY], digits=r"\d")
    + r"(?:(?=\d)(?<!\d)(?<!\d[./-])(?<!\d年)(?<!月)"
    r"(?P<cjk>(?:(?P<cm>\d{1,2})月)?(?P<cd>\d{1,2})日)(?![間间])"
    r"|(?=\d)(?<!\d)(?<!\d년)(?<!\d년 )(?<!월)(?<!월 )"
    r"(?P<ko>(?:(?P<km>\d{1,2})월\s?)?(?P<kd>\d{1,2})일)(?![간째])(?!\s?동안)"
    rf"|\b(?P<mname>{_MONTH_ALT})\.?\s+(?P<mday>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"{_YEAR_AFTER}"
    r"|(?=\d)(?<![\d.])\b(?P<dday>\d{1,2})(?:er|\.|º|st|nd|rd|th)?\s+(?:de\s+)?"
    rf"(?P<dname>{_MONTH_ALT})\b"
    rf"{_YEAR_AFTER}"
    rf"|(?P<wd>{_WEEKDAY_ALT})"
    rf"|(?P<y>{_YESTERDAY_ALT}))",
    # Matched against the lower-cased opening: a case-blind trie is several times slower.
)


def _month_day(published: date, month: int | None, day: int) -> date | None:
    """The latest date with this day (and month, when given) not after the publication,
    give or take a day of time-zone slack; None when there is none within a year."""
    limit = published + timedelta(days=1)
    for back in range(13):
        if month is None:
            year, index = divmod(limit.year * 12 + limit.month - 1 - back, 12)
            month_here = index + 1
        elif back > 1:
            return None
        else:
            year, month_here = limit.year - back, month
        try:
            candidate = date(year, month_here, day)
        except ValueError:
            continue
        if candidate <= limit:
            return candidate
    return None


def _resolve(match: re.Match[str], published: date) -> date | None:
    groups = match.groupdict()
    if groups["cjk"]:
        month = int(groups["cm"]) if groups["cm"] else None
        return _month_day(published, month, int(groups["cd"]))
    if groups["ko"]:
        month = int(groups["km"]) if groups["km"] else None
        return _month_day(published, month, int(groups["kd"]))
    if groups["mname"]:
        return _month_day(published, _MONTHS[groups["mname"]], int(groups["mday"]))
    if groups["dname"]:
        return _month_day(published, _MONTHS[groups["dname"]], int(groups["dday"]))
    if groups["wd"]:
        weekday = _WEEKDAYS[groups["wd"]]
        return published - timedelta(days=(published.weekday() - weekday) % 7)
    if groups["y"]:
        return published - timedelta(days=1)
    return None


def lede_day(text: str, published: date | None) -> date | None:
    """The first day the opening of ``text`` names; None when it names none (days far
    before ``published`` do not count), or when the publication is unknown. A weekday
    that is the publication's own does not count either: "on Friday" in a Friday paper
    is today as often as a week ago."""
    if published is None:
        return None
    for match in _DAY.finditer(text[:OPENING_CHARS].lower()):
        day = _resolve(match, published)
        if day is None or (match.group("wd") and day == published):
            continue
        if published + timedelta(days=1) - day <= timedelta(days=MAX_BACK_DAYS):
            return day  # (never after the next day: _resolve looks back only)
    return None
