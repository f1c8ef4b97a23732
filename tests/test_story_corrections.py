"""`newsmon stories --split / --merge / --corrections`: the user's corrections of the
grouping, kept by restory and by running crawlers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup import url_key
from monitor.story_assign import StoryAssigner
from monitor.story_lock import LockedStoryAssigner
from monitor.story_regroup import RegroupError, split
from monitor.story_restory import restory
from monitor.story_settings import StoriesSettings
from storage.articles import add_url_aliases
from storage.models import AlertEvent, Article, Story, StoryOverride
from tests.stories_texts import (
    BOILER_A,
    BOILER_B,
    IT_WORKERS,
    SEAFOOD,
    SEAFOOD_REWRITE,
    copy_of_seafood,
)
from tests.test_stories_db import T0, Clock, add_article, seed_background, sessions, stories_cli

__all__ = ["sessions"]  # the fixture, used by name


def _store(
    sessions: sessionmaker[Session], assigner: StoryAssigner | None = None
) -> dict[str, int]:
    """Background, the seafood report, a copy, a rewrite and an exact copy of the
    rewrite (one story), and an unrelated story of the same day: their ids by name."""
    if assigner is None:
        with sessions() as session:
            assigner = StoryAssigner(session, StoriesSettings(), Clock(T0))
    seed_background(sessions, assigner, 30)
    ids: dict[str, int] = {}
    with sessions() as session:
        for k, (name, title, body, copy_of) in enumerate(
            [
                ("report", "Fish plants", SEAFOOD, None),
                ("copy", "Workers in fish plants", copy_of_seafood(), None),
                ("rewrite", "Pyongyang earns from fish", SEAFOOD_REWRITE, None),
                ("rewrite2", "Pyongyang earns from fish", SEAFOOD_REWRITE, "rewrite"),
                ("other", "IT workers charged", IT_WORKERS, None),
            ]
        ):
            when = T0 + timedelta(hours=k)
            url = f"https://{name}.example/a"
            original = session.get(Article, ids[copy_of]) if copy_of else None
            art = add_article(
                session, url, title, body, when, published=when, duplicate_of=original
            )
            add_url_aliases(session, art.id, [url_key(url)])
            assigner.assign(session, art, original)
            ids[name] = art.id
        session.commit()
    return ids


def _stories(sessions: sessionmaker[Session], ids: dict[str, int]) -> dict[str, int | None]:
    with sessions() as session:
        return {name: session.get(Article, aid).story_id for name, aid in ids.items()}  # type: ignore[union-attr]


def _sizes_agree(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        for story in session.scalars(select(Story)):
            n = session.scalar(select(func.count()).where(Article.story_id == story.id))
            assert story.size == n


def test_split_takes_a_rewrite_out_and_restory_keeps_it_apart(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    before = _stories(sessions, ids)
    assert before["report"] == before["copy"] == before["rewrite"] == before["rewrite2"]
    code, out, err = stories_cli(database_url, "--split", "https://rewrite.example/a")
    assert code == 0, err
    assert "1 article(s) with 1 exact copy split out of" in out
    assert "kept apart from 2 text(s)" in out
    after = _stories(sessions, ids)
    assert after["rewrite"] == after["rewrite2"] != after["report"]
    assert after["report"] == after["copy"] == before["report"]
    _sizes_agree(sessions)
    with sessions() as session:
        new = session.get(Story, after["rewrite"])
        assert new is not None and new.first_article_id == ids["rewrite"]
        assert new.title == "Pyongyang earns from fish"

    # Recomputed from scratch, the figures alone would group them again (they did at
    # first); the correction keeps them apart.
    with sessions() as session:
        count, _ = restory(session, T0 - timedelta(hours=1))
    assert count == 5
    again = _stories(sessions, ids)
    assert again["rewrite"] == again["rewrite2"] != again["report"] == again["copy"]
    _sizes_agree(sessions)


def test_merge_joins_two_stories_restory_keeps_it_and_a_later_split_wins(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    before = _stories(sessions, ids)
    assert before["other"] != before["report"]
    code, out, err = stories_cli(database_url, "--merge", str(ids["report"]), f"#{ids['other']}")
    assert code == 0, err
    assert f"story #{before['report']}: #{before['other']} merged into it (1 article(s))" in out
    after = _stories(sessions, ids)
    assert len(set(after.values())) == 1 and after["report"] == before["report"]
    with sessions() as session:
        assert session.get(Story, before["other"]) is None
    _sizes_agree(sessions)

    with sessions() as session:
        restory(session, T0 - timedelta(hours=1))
    assert len(set(_stories(sessions, ids).values())) == 1

    code, out, _ = stories_cli(database_url, "--split", "https://other.example/a", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["lifted"] == 1 and result["moved"] == [ids["other"]]
    with sessions() as session:
        kinds = [r.kind for r in session.scalars(select(StoryOverride))]
        restory(session, T0 - timedelta(hours=1))
    assert kinds == ["apart"] * 3  # other with report, copy and rewrite; no "together"
    last = _stories(sessions, ids)
    assert last["other"] != last["report"] == last["rewrite"]


def test_merging_stories_lifts_corrections_that_kept_their_articles_apart(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    assert stories_cli(database_url, "--split", str(ids["rewrite"]))[0] == 0
    code, out, _ = stories_cli(database_url, "--merge", str(ids["copy"]), str(ids["rewrite2"]))
    assert code == 0 and "replaces 2 earlier correction(s)" in out
    with sessions() as session:
        restory(session, T0 - timedelta(hours=1))
    assert len({_stories(sessions, ids)[k] for k in ("report", "copy", "rewrite")}) == 1


@pytest.mark.parametrize("kind", ["timed", "locked"])
def test_a_running_crawler_rebuilds_its_index_after_a_correction(
    sessions: sessionmaker[Session], database_url: str, kind: str
) -> None:
    """A copy of the rewrite stored after the split joins the rewrite's new story: the
    crawler's index, built before the split, had the rewrite in the report's story."""
    clock = Clock(T0 + timedelta(hours=6))
    with sessions() as session:
        crawler: StoryAssigner = (
            StoryAssigner(session, StoriesSettings(), clock, catch_up_seconds=5)
            if kind == "timed"
            else LockedStoryAssigner(session, StoriesSettings(), clock)
        )
    ids = _store(sessions, crawler)
    assert stories_cli(database_url, "--split", str(ids["rewrite"]))[0] == 0
    clock.now += timedelta(seconds=10)
    with sessions() as session:
        body = f"{BOILER_B}\n{SEAFOOD_REWRITE}\n{BOILER_A}"
        late = add_article(session, "https://late.example/a", "Fish", body, clock.now)
        placed = crawler.assign(session, late)
        session.commit()
    assert placed == _stories(sessions, ids)["rewrite"] != _stories(sessions, ids)["report"]


def test_alert_events_follow_the_articles_of_a_merged_story(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    before = _stories(sessions, ids)
    with sessions() as session:
        for name in ("report", "other"):
            session.add(
                AlertEvent(
                    watcher="desk",
                    key=f"story:{before[name]}",
                    kind="story",
                    story_id=before[name],
                    article_id=ids[name],
                )
            )
        session.commit()
    assert stories_cli(database_url, "--merge", str(ids["report"]), str(ids["other"]))[0] == 0
    with sessions() as session:
        keys = sorted(e.key for e in session.scalars(select(AlertEvent)))
    target = before["report"]
    assert keys == sorted([f"story:{target}", f"story:{before['other']}:merged-into:{target}"])


def test_refused_corrections_say_why_and_change_nothing(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    before = _stories(sessions, ids)
    cases = [
        (["--split", str(ids["report"]), str(ids["other"])], "are in different stories"),
        (["--split", str(ids["rewrite2"])], f"exact copy of #{ids['rewrite']}"),
        (["--split", str(ids["other"])], "holds only these articles"),
        (["--merge", str(ids["report"]), str(ids["copy"])], "already one story"),
        (["--merge", str(ids["report"])], "give two or more articles"),
        (["--split", "https://nowhere.example/x"], "no stored article"),
        (["--split", str(ids["rewrite"]), "--why", "1", "2"], "cannot be used together"),
    ]
    for argv, message in cases:
        code, _, err = stories_cli(database_url, *argv)
        assert code == 2 and message in err, (argv, err)
    assert _stories(sessions, ids) == before
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(StoryOverride)) == 0
        with pytest.raises(RegroupError, match="in no story"):
            art = add_article(session, "https://loose.example/a", "t", "x", T0)
            split(session, [art.id], T0)


def test_corrections_are_listed_as_text_and_json(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    assert stories_cli(database_url, "--corrections")[1] == "no corrections\n"
    assert stories_cli(database_url, "--split", str(ids["rewrite"]))[0] == 0
    code, out, _ = stories_cli(database_url, "--corrections")
    assert code == 0 and out.count("apart") == 2
    assert f"#{ids['rewrite']} https://rewrite.example/a" in out
    code, out, _ = stories_cli(database_url, "--why", str(ids["rewrite"]), str(ids["copy"]))
    assert code == 0 and "a user's correction keeps them apart" in out
    code, out, _ = stories_cli(database_url, "--why", str(ids["report"]), str(ids["copy"]))
    assert code == 0 and "correction" not in out
    data = json.loads(stories_cli(database_url, "--corrections", "--json")[1])
    assert {a["url"] for row in data for a in row["articles"]} == {
        "https://rewrite.example/a",
        "https://report.example/a",
        "https://copy.example/a",
    }
