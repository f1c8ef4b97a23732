"""`newsmon stories --why A B`: the assigner's decision on two stored articles, taken apart."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup import url_key
from monitor.story_assign import StoryAssigner
from monitor.story_explain import ArticleNotFound, explain, find_article
from monitor.story_settings import StoriesSettings
from storage.articles import add_url_aliases
from storage.models import Article
from tests.stories_texts import IT_WORKERS, SEAFOOD, SEAFOOD_DE, SEAFOOD_REWRITE, copy_of_seafood
from tests.test_stories_db import T0, Clock, add_article, seed_background, sessions, stories_cli

__all__ = ["sessions"]  # the fixture, used by name


def _store(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Background, then the seafood report, a copy and a rewrite of it, and an unrelated
    story of the same day: their ids by name."""
    with sessions() as session:
        assigner = StoryAssigner(session, StoriesSettings(), Clock(T0))
    seed_background(sessions, assigner, 30)
    ids = {}
    with sessions() as session:
        for k, (name, title, body) in enumerate(
            [
                ("report", "Fish plants", SEAFOOD),
                ("copy", "Workers in fish plants", copy_of_seafood()),
                ("rewrite", "Pyongyang earns from fish", SEAFOOD_REWRITE),
                ("other", "IT workers charged", IT_WORKERS),
            ]
        ):
            when = T0 + timedelta(hours=k)
            url = f"https://{name}.example/a"
            art = add_article(session, url, title, body, when, published=when)
            add_url_aliases(session, art.id, [url_key(url)])  # as the store keeps them
            assigner.assign(session, art)
            ids[name] = art.id
        session.commit()
    return ids


def _why(database_url: str, *argv: str) -> tuple[int, str, str]:
    return stories_cli(database_url, "--why", *argv)


def test_a_rewrite_shows_the_shared_names_that_linked_it(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    with sessions() as session:
        rewrite = session.get(Article, ids["rewrite"])
        report = session.get(Article, ids["report"])
        assert rewrite is not None and report is not None
        assert rewrite.story_id == report.story_id
        # either order: the later-stored article is compared with the earlier
        why = explain(session, rewrite, report)
    assert why.earlier.id == ids["report"] and why.later.id == ids["rewrite"]
    assert why.verdict.same and why.verdict.reason in {"rewrite", "title+rewrite"}
    assert why.indexed and why.candidate
    assert why.jaccard < 0.5  # not a copy: it was linked by what it retells
    shared = {f.name for f in why.shared}
    assert {"hunchun", "sobaeksu", "1850"} <= shared
    assert why.overlap is not None and why.overlap >= StoriesSettings().rewrite_overlap
    assert why.agreement is not None and why.agreement[1] >= 1  # the copy was checked too
    assert all(f.weight > 0 for f in why.shared)


def test_text_output_names_the_figures_and_the_settings_they_meet(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    code, out, _ = _why(database_url, "https://other.example/a", f"#{ids['report']}")
    assert code == 0
    assert "stored in different stories" in out
    assert "not the same story" in out
    assert "rewrite_overlap = 0.2" in out and "copy_jaccard = 0.5" in out
    assert f"earlier  #{ids['report']}" in out
    code, out, _ = _why(database_url, str(ids["copy"]), "https://report.example/a")
    assert code == 0 and "same story: copy" in out and "stored in one story" in out


def test_json_output_and_unknown_articles(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    code, out, _ = _why(
        database_url, "https://report.example/a", "https://other.example/a", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["verdict"]["same"] is False
    assert data["earlier"]["url"] == "https://report.example/a"
    assert data["earlier"]["published"].startswith("2025-03-04T08:00")
    assert isinstance(data["shared"], list)
    code, out, err = _why(database_url, "https://nowhere.example/x", str(ids["report"]))
    assert code == 2 and "no stored article 'https://nowhere.example/x'" in err
    with sessions() as session, pytest.raises(ArticleNotFound):
        find_article(session, "#999999")


def test_an_article_out_of_the_window_is_compared_all_the_same(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    """Out of the window the assigner never saw it: the figures still say how far apart
    the two are, so that a user can tell whether a longer window would have linked them."""
    ids = _store(sessions)
    short = StoriesSettings(window_days=0.05)  # 72 minutes: the rewrite came 2 hours later
    with sessions() as session:
        report, rewrite = (session.get(Article, ids[k]) for k in ("report", "rewrite"))
        assert report is not None and rewrite is not None
        why = explain(session, report, rewrite, short)
    assert not why.indexed and not why.candidate and why.agreement is None
    assert why.verdict.same  # what the comparison alone says
    assert {"hunchun", "sobaeksu"} <= {f.name for f in why.shared}


def test_a_retelling_in_another_language_shows_its_names_and_figures(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    ids = _store(sessions)
    later = T0 + timedelta(hours=6)
    with sessions() as session:
        art = add_article(
            session,
            "https://de.example/a",
            "Fischfabriken",
            SEAFOOD_DE,
            later,
            later,
            language="de",
        )
        add_url_aliases(session, art.id, [url_key("https://de.example/a")])
        StoryAssigner(session, StoriesSettings(), Clock(later)).assign(session, art)
        session.commit()
    code, out, _ = _why(database_url, "https://de.example/a", "https://report.example/a")
    assert code == 0 and "stored in one story" in out
    assert "same story: translation" in out
    assert "languages   en / de: 3 rare names and figures shared" in out
    assert "cross_min_shared = 3" in out
    code, out, _ = _why(database_url, "https://de.example/a", f"#{ids['report']}", "--json")
    assert json.loads(out)["names"][0] == 3
