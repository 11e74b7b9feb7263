from .celery import app

def later(t):
    t.apply_async(countdown=3 * 3600)
