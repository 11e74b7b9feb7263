task_soft_time_limit = 900
task_time_limit = 60
