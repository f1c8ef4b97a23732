"""The day an article's opening names (monitor.story_dates): languages, and what is not a day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.story_dates import lede_day

SUNDAY = date(2024, 1, 7)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("North Korea fired artillery shells on Friday near Yeonpyeong.", date(2024, 1, 5)),
        ("On Jan. 6, the North fired again.", date(2024, 1, 6)),
        ("Pyongyang said on 5 January that the drills were a response.", date(2024, 1, 5)),
        ("Nordkorea hat am 5. Januar Granaten abgefeuert.", date(2024, 1, 5)),
        ("La Corée du Nord a tiré vendredi des obus.", date(2024, 1, 5)),
        ("Corea del Norte disparó el 5 de enero.", date(2024, 1, 5)),
        ("Северная Корея 5 января открыла огонь.", date(2024, 1, 5)),
        ("В пятницу КНДР открыла огонь.", date(2024, 1, 5)),
        ("В среду КНДР открыла огонь.", date(2024, 1, 3)),
        ("북한이 5일 연평도 인근에서 포사격을 했다.", date(2024, 1, 5)),
        ("북한은 1월 6일 오후 다시 포를 쐈다.", date(2024, 1, 6)),
        ("北朝鮮は５日、延坪島付近で砲撃した。", date(2024, 1, 5)),
        ("朝鲜1月5日在延坪岛附近开炮。", date(2024, 1, 5)),
        ("昨天朝鲜再次开炮。", date(2024, 1, 6)),
        ("北朝鮮は12月30日に声明を出した。", date(2023, 12, 30)),  # across the year end
    ],
)
def test_the_first_day_named_in_the_opening(text: str, day: date) -> None:
    assert lede_day(text, SUNDAY) == day


@pytest.mark.parametrize(
    "text",
    [
        "Published 5 January 2024. North Korean workers in Russia.",  # a dateline: has a year
        "2024年1月5日 北朝鮮の労働者",
        "2024년 1월 5일 북한 노동자",
        "5日間にわたり訓練が続いた。",  # a duration, not a day
        "훈련은 5일간 이어졌다.",
        "The 5 days of drills ended.",
        "Maybe 5 people were there.",
        "In May 3 workers left.",  # resolves to last May: far before the paper
        "On Sunday the agency said",  # the paper's own weekday: today or a week ago
        "No day is named here at all.",
        "Выбросы наносят ущерб окружающую среду региона.",  # "среду": environment
        "Hier in Berlin sagte der Botschafter nichts.",  # German "hier": here
    ],
)
def test_what_is_not_the_events_day(text: str) -> None:
    assert lede_day(text, SUNDAY) is None


def test_a_day_far_before_the_publication_is_skipped_for_the_next() -> None:
    text = "After the March 3 launch, Pyongyang fired again on Friday."
    assert lede_day(text, date(2024, 3, 17)) == date(2024, 3, 15)


def test_only_the_opening_counts_and_an_unknown_publication_gives_none() -> None:
    assert lede_day("x " * 400 + "on Friday", SUNDAY) is None
    assert lede_day("North Korea fired on Friday.", None) is None


def test_a_day_of_slack_for_time_zones() -> None:
    # Published on the 4th (UTC) in Seoul's morning of the 5th: "5일" is still this week.
    assert lede_day("북한이 5일 포사격을 했다.", date(2024, 1, 4)) == date(2024, 1, 5)


@given(
    st.lists(st.sampled_from([*"0123456789０５月日일월年년 .,-/", " May ", " мая ", "friday"])).map(
        "".join
    ),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
)
def test_any_opening_gives_no_day_or_one_just_before_its_publication(
    text: str, published: date
) -> None:
    """Whatever digits and date words come (a 0th, a 45th, a 13th month), no error, and
    a day is never after the publication's next day nor more than ten days before."""
    day = lede_day(text, published)
    assert day is None or published - timedelta(days=10) <= day <= published + timedelta(days=1)
