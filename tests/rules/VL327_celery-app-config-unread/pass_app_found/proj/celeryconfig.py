task_time_limit = 300
