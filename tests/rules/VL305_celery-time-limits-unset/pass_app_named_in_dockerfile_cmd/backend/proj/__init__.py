from celery import Celery

app = Celery("proj")
app.conf.update(task_time_limit=300, task_soft_time_limit=240)
