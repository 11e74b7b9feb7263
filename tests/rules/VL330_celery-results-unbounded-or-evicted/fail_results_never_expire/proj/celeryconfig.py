result_backend = "redis://redis:6379/1"
result_expires = None
