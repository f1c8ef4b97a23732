"""Two workers never create two stories for the same copy.

The store pipeline of a worker serialises its transactions with every other storing
process's through the store lock and uses a LockedStoryAssigner, which catches up with
the signatures others committed before it assigns (monitor.story_lock explains how).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy.orm import Session

from monitor.crawl_settings import crawl_config
from monitor.pipelines import StorePipeline
from monitor.story_assign import StoryAssigner
from monitor.story_lock import LockedStoryAssigner, serialise_transactions
from storage.engine import open_database


class DistributedStorePipeline(StorePipeline):
    """StorePipeline whose transactions are serialised and whose assigner catches up."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedStorePipeline:
        pipe = super().from_crawler(crawler)
        assert isinstance(pipe, DistributedStorePipeline)
        config = crawl_config(crawler.settings)
        stories = config.settings.stories

        def stories_factory(session: Session) -> StoryAssigner:
            return LockedStoryAssigner(session, stories)

        pipe.stories_factory = stories_factory
        return pipe

    def open(self, *args: Any) -> None:
        self.engine = open_database(self.database_url)
        serialise_transactions(self.engine)
        if self.stories_factory is not None:
            with Session(self.engine) as session:
                self.stories = self.stories_factory(session)
