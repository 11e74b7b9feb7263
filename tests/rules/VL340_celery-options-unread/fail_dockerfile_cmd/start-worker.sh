#!/bin/sh
exec celery -A app worker --loglevel=info
