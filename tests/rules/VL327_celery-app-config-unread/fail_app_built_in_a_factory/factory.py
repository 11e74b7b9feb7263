from celery import Celery


def make_celery(flask_app):
    return Celery(flask_app.import_name)
