task_soft_time_limit = 120
