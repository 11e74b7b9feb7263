"""Which job-queue libraries use a Redis, read from the services that connect to it.

Celery is the broker role of :mod:`vantage_lint.redis.clients`; this module recognises the other
libraries whose queues are plain Redis keys without a TTL (lists, sorted sets, streams), so that
any ``allkeys-*`` eviction can drop jobs: Sidekiq, RQ, BullMQ, Laravel Horizon and queues,
Dramatiq, arq, Huey, and distributed locks (Redlock, python-redis-lock).

The signs, each visible in Compose: the program the service runs (``sidekiq``, ``rq worker``,
``dramatiq``, ``arq``, ``php artisan horizon`` / ``queue:work``, ``huey_consumer``), the image
name (``*sidekiq*``, ``*bullmq*``, ``*horizon*``), or a variable that only these libraries read
(``QUEUE_CONNECTION=redis`` for Laravel, ``SIDEKIQ_*``, ``RQ_*``, ``BULL*``, ``DRAMATIQ_*``,
``ARQ_*``, ``*REDLOCK*``/``*_LOCK_*URL``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service

# program basename (or "php artisan <word>") -> library
_PROGRAMS = {
    "sidekiq": "Sidekiq", "sidekiqswarm": "Sidekiq", "rq": "RQ", "rqworker": "RQ", "rqscheduler": "RQ",
    "dramatiq": "Dramatiq", "arq": "arq", "huey_consumer": "Huey", "huey_consumer.py": "Huey",
}
_ARTISAN = {"horizon": "Laravel Horizon", "queue:work": "Laravel queues", "queue:listen": "Laravel queues"}
_IMAGE_WORDS = {"sidekiq": "Sidekiq", "bullmq": "BullMQ", "horizon": "Laravel Horizon", "dramatiq": "Dramatiq"}
_VARIABLE_PREFIXES = {
    "SIDEKIQ_": "Sidekiq", "RQ_": "RQ", "BULLMQ_": "BullMQ", "BULL_": "BullMQ", "DRAMATIQ_": "Dramatiq",
    "ARQ_": "arq", "HUEY_": "Huey", "HORIZON_": "Laravel Horizon",
}


def queue_libraries(service: Service) -> list[str]:
    """The job-queue (or lock) libraries ``service`` shows it uses, without duplicates."""
    from vantage_lint.shell import basename

    found: list[str] = []

    def add(name: str) -> None:
        if name not in found:
            found.append(name)

    words = [w.text for w in service.command_words[:12]]
    for i, word in enumerate(words):
        program = basename(word)
        if program in _PROGRAMS:
            add(_PROGRAMS[program])
        if program == "artisan" and i + 1 < len(words) and words[i + 1] in _ARTISAN:
            add(_ARTISAN[words[i + 1]])
    image = service.image
    if image is not None:
        for word, name in _IMAGE_WORDS.items():
            if word in image.repository.lower():
                add(name)
    for var_name, var in service.environment.items():
        upper = var_name.upper()
        if upper == "QUEUE_CONNECTION" and (var.value or "").strip().lower() == "redis":
            add("Laravel queues")
        for prefix, name in _VARIABLE_PREFIXES.items():
            if upper.startswith(prefix):
                add(name)
        if "REDLOCK" in upper or ("LOCK" in upper and upper.endswith("_URL")):
            add("distributed locks")
    return found
