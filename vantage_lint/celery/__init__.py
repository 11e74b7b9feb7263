"""Celery: the invocation a service runs (``command``) and the CLI's option table (``options``)."""
