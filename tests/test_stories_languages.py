"""Retellings in another language: linked by their names and figures alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.story_assign import StoryAssigner
from monitor.story_features import StorySignature, language_tag, signature
from monitor.story_index import StoryIndex
from monitor.story_settings import StoriesSettings
from monitor.story_verify import names_keyed_across, same_story
from tests.stories_texts import SEAFOOD, SEAFOOD_DE, SEAFOOD_ES, WAREHOUSE_FIRE_FR, background

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=20)


def seeded_index(settings: StoriesSettings | None = None) -> StoryIndex:
    index = StoryIndex(settings or StoriesSettings())
    for i, (title, text) in enumerate(background(40)):
        index.add(10_000 + i, 10_000 + i, signature(title, text, T0, T0, "en"), T0)
    return index


def english() -> StorySignature:
    return signature("Hunchun fish plants use 1,850 workers", SEAFOOD, T0, T0, "en-GB")


def test_a_retelling_in_another_language_is_linked_by_names_and_figures() -> None:
    index = seeded_index()
    # German capitalises its nouns, so its names count as plain words: the figures
    # (1,850, 2,300, 41 million) carry the link; all its plain words differ.
    german = signature("Nordkoreanerinnen in Hunchun", SEAFOOD_DE, T1, T1, "de")
    verdict = same_story(german, english(), index)
    assert verdict.same and verdict.reason == "translation"
    # Where names are names (Spanish), they are often enough even with the plain words.
    spanish = signature("Gambas norcoreanas en Hunchun", SEAFOOD_ES, T1, T1, "es")
    assert same_story(spanish, english(), index).same


def test_the_language_must_be_known_on_both_sides() -> None:
    index = seeded_index()
    german = signature("Nordkoreanerinnen in Hunchun", SEAFOOD_DE, T1, T1, None)
    assert not same_story(german, english(), index).same
    off = seeded_index(StoriesSettings(cross_language=False))
    german = signature("Nordkoreanerinnen in Hunchun", SEAFOOD_DE, T1, T1, "de")
    assert not same_story(german, english(), off).same


def test_another_event_sharing_two_names_is_not_linked() -> None:
    fire = signature("Incendie à Hunchun", WAREHOUSE_FIRE_FR, T1, T1, "fr")
    assert not same_story(fire, english(), seeded_index()).same
    # What keeps it apart is how many names and figures it shares, and their weight:
    looser = seeded_index(StoriesSettings(cross_min_shared=2, cross_overlap=0.1))
    assert same_story(fire, english(), looser).same


def test_a_retelling_in_another_language_joins_the_story_through_the_index() -> None:
    index = seeded_index()
    index.add(1, 1, english(), T0)
    german = signature("Nordkoreanerinnen in Hunchun", SEAFOOD_DE, T1, T1, "de")
    best = index.best_story(german)
    assert best is not None and best.story_id == 1


def test_names_in_han_kana_or_hangul_are_not_compared_across_languages() -> None:
    assert names_keyed_across("en", "ru") and names_keyed_across("de", "es")
    assert not names_keyed_across("en", "en")
    assert not names_keyed_across("ko", "en") and not names_keyed_across("ja", "zh")
    assert not names_keyed_across(None, "en")


def test_language_tags_keep_their_primary_subtag() -> None:
    assert language_tag("en-US") == "en" and language_tag("zh_Hant") == "zh"
    assert language_tag(" DE ") == "de"
    assert language_tag("") is None and language_tag(None) is None
    assert language_tag("x1") is None


def test_a_signature_from_extraction_takes_the_stored_articles_language() -> None:
    """Extraction processes sign without the language; the assigner sets the stored
    article's, as it sets the dates."""
    given = signature("Nordkoreanerinnen in Hunchun", SEAFOOD_DE)
    assert given.language is None
    signed = StoryAssigner.sign(given, None, None, T1, T1, "de-DE")
    assert signed.language == "de" and signed.features == given.features
