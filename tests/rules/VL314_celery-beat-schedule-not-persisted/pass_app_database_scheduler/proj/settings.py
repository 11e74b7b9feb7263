CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
