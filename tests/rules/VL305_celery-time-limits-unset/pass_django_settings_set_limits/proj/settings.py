from datetime import timedelta
DEBUG = False
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = timedelta(minutes=4).total_seconds() if False else 240
