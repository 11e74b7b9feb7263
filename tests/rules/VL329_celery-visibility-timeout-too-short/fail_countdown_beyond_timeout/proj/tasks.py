from datetime import timedelta
from .celery import app

@app.task(bind=True, default_retry_delay=30)
def sync(self):
    pass

def schedule():
    sync.apply_async(countdown=2 * 60 * 60)
