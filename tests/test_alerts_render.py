"""Alert messages: every format carries title, outlet, date, keywords, snippet, link;
markup in article data stays text; users override templates from their config dir."""

from __future__ import annotations

from pathlib import Path

from monitor.alerts.render import MessageView, Outlet, StoryItem, render
from tests.alerts_data import T0

STORY = StoryItem(
    title="Workers <script>alert(1)</script> & *stars*",
    url="https://example.org/a?x=1&y=2",
    outlet="Example Daily",
    language="en",
    published=T0,
    first_seen=T0,
    topic="nk-workers-abroad",
    score=4.5,
    keywords=("student visa", "Kursk"),
    snippet="arrived on student visas",
    also=(Outlet("Dnevnik", "javascript:alert(1)", "copy", "bg"),),
)


def test_every_format_has_the_facts_and_escapes_markup() -> None:
    msg = render(MessageView(watcher="desk", generated=T0, stories=(STORY,)))
    for body in (msg.text, msg.markdown, msg.html):
        for fact in (
            "Example Daily",
            "2026-11-25 09:00 UTC",
            "student visa",
            "Kursk",
            "arrived on student visas",
            "Dnevnik",
        ):
            assert fact in body, (fact, body)
    assert "https://example.org/a?x=1&y=2" in msg.text
    assert "<script>" not in msg.html and "&lt;script&gt;" in msg.html
    assert 'href="https://example.org/a?x=1&amp;y=2"' in msg.html
    assert "javascript:" not in msg.html and "javascript:" not in msg.markdown
    assert r"\*stars\*" in msg.markdown
    assert msg.subject == "newsmon: Workers <script>alert(1)</script> & *stars*"
    assert msg.payload["stories"][0]["also_reported_by"][0]["name"] == "Dnevnik"


def test_user_template_overrides_builtin(tmp_path: Path) -> None:
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "message.txt.j2").write_text(
        "{% for s in m.stories %}{{ s.outlet }}: {{ s.title }}{% endfor %}\n", encoding="utf-8"
    )
    msg = render(MessageView(watcher="desk", generated=T0, stories=(STORY,)), tmp_path)
    assert msg.text.strip() == f"Example Daily: {STORY.title}"
    assert "<html" in msg.html  # the other formats stay built-in
