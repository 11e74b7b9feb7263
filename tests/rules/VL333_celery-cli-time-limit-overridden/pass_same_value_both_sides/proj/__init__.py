from celery import Celery
app = Celery('proj')
app.conf.task_time_limit = 3600
