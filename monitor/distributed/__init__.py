"""Past one machine: `newsmon worker` processes share one crawl frontier in Redis.

scrapy-redis provides the shared request queue and the scheduler; this package adds what
newsmon needs on top: start messages per source (``enqueue``), a duplicate filter whose
fingerprints expire (``dupefilter``), the worker spider (``spider``), one run record per
burst of work (``recorder``), story assignment serialised across workers (``stories``),
and the `newsmon run --distributed` scheduler (``runner``).

Only ``settings`` is imported by the single-machine code (the `[distributed]` table of
newsmon.toml); every other module imports scrapy_redis or redis, which are optional
(`pip install 'newsmon[distributed]'`).
"""
