from celery import Celery

app = Celery("proj")
app.conf.task_time_limit = 300
app.conf.task_soft_time_limit = 240
