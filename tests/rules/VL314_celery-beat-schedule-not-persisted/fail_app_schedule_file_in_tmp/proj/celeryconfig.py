beat_schedule_filename = "/tmp/celerybeat-schedule"
