task_time_limit = 1800
