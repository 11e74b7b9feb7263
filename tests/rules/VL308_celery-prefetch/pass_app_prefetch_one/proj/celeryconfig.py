task_time_limit = 1800
worker_prefetch_multiplier = 1
