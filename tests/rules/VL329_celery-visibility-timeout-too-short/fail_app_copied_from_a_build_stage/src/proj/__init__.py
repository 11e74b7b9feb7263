from celery import Celery

app = Celery("proj")
app.conf.task_acks_late = True
app.conf.broker_transport_options = {"visibility_timeout": 60}
