"""The scheduled digest: write a day's files once, e-mail them, record that it was done.

Called by `newsmon run` at the digest time and at start for digests missed while it was
down. The record (digest_runs, one row per day and topic) is what makes it idempotent:
a day already written for every configured topic is not written or e-mailed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from monitor.digest import write_digest_files
from monitor.digest_model import Digest
from monitor.schedule_settings import DigestSettings
from storage.scheduler_state import digest_days_done, digest_topics_done, record_digest

logger = logging.getLogger(__name__)
ALL_TOPICS = "*"


@dataclass(frozen=True)
class DigestOutcome:
    day: date
    status: str  # ok | failed | skipped (already written)
    files: tuple[str, ...] = ()
    emailed: bool = False
    detail: str = ""

    def describe(self) -> str:
        if self.status == "skipped":
            return f"digest {self.day}: already written"
        if self.status == "failed":
            return f"digest {self.day}: FAILED: {self.detail}"
        mail = ", e-mailed" if self.emailed else ""
        extra = f" ({self.detail})" if self.detail else ""
        return f"digest {self.day}: wrote {len(self.files)} file(s){mail}{extra}"


def smtp_of(config: Any) -> Any | None:
    """[smtp] of newsmon.toml as the mailer's SmtpSettings, when configured."""
    found = getattr(getattr(config, "settings", None), "smtp", None)
    if found is None:
        return None
    from monitor.mailer import SmtpSettings

    if isinstance(found, SmtpSettings):
        return found
    raw = found.model_dump() if hasattr(found, "model_dump") else found
    return SmtpSettings.model_validate(raw)


def template_dir_of(config: Any) -> Path | None:
    directory = getattr(config, "directory", None)
    if directory is None:
        return None
    path = Path(directory) / "templates"
    return path if path.is_dir() else None


class ScheduledDigest:
    """Everything needed to produce the digest of one day, with the clock injected."""

    def __init__(
        self,
        config: Any,
        settings: DigestSettings,
        sessions: sessionmaker[Session],
        tz: tzinfo,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.settings = settings
        self.sessions = sessions
        self.tz = tz
        self.clock = clock
        self.topics = [t.name for t in getattr(config, "topics", [])]
        self.out_dir = Path(settings.directory)

    @property
    def record_topics(self) -> list[str]:
        return self.topics or [ALL_TOPICS]

    def done(self, days: list[date]) -> set[date]:
        with self.sessions() as session:
            found = digest_days_done(session, [d.isoformat() for d in days], self.record_topics)
        return {date.fromisoformat(d) for d in found}

    def produce(self, day: date) -> DigestOutcome:
        if self.done([day]):
            return DigestOutcome(day, "skipped")
        with self.sessions() as session:
            earlier = digest_topics_done(session, day.isoformat())
        started = self.clock()
        templates = template_dir_of(self.config)
        try:
            with self.sessions() as session:
                digest, paths = write_digest_files(
                    session,
                    day,
                    self.settings.formats,
                    self.out_dir,
                    tz=self.tz,
                    topics=self.topics,
                    template_dir=templates,
                    now=started,
                )
        except Exception as exc:  # recorded and shown in `newsmon status`
            logger.exception("digest %s failed", day)
            outcome = DigestOutcome(day, "failed", detail=f"{type(exc).__name__}: {exc}")
            self._record(outcome, started)
            return outcome
        if earlier:
            # A topic was added: the day's files now cover it too; the readers of the
            # mail already had this day's digest, so it is not sent again.
            new_topics = ", ".join(sorted(set(self.record_topics) - earlier))
            emailed, detail = False, f"rewritten for new topic(s) {new_topics}; not e-mailed again"
        else:
            emailed, detail = self._email(digest, day, templates)
        outcome = DigestOutcome(day, "ok", tuple(str(p) for p in paths), emailed, detail)
        self._record(outcome, started)
        return outcome

    def _email(self, digest: Digest, day: date, templates: Path | None) -> tuple[bool, str]:
        if not self.settings.email:
            return False, ""
        try:
            smtp = smtp_of(self.config)
        except ValueError as exc:
            return False, f"e-mail not sent: bad [smtp] settings: {exc}"
        if smtp is None:
            return False, ""
        from monitor.mailer import MailError, send_digest

        try:
            refused = send_digest(smtp, digest, templates)
        except MailError as exc:
            logger.warning("digest %s: e-mail not sent: %s", day, exc)
            return False, f"e-mail not sent: {exc}"
        return True, f"refused: {', '.join(refused)}" if refused else ""

    def _record(self, outcome: DigestOutcome, started: datetime) -> None:
        with self.sessions() as session, session.begin():
            record_digest(
                session,
                outcome.day.isoformat(),
                self.record_topics,
                status=outcome.status,
                started=started,
                finished=self.clock(),
                files=outcome.files,
                emailed=outcome.emailed,
                detail=outcome.detail,
            )
