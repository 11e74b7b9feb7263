task_time_limit = 8 * 60 * 60
task_acks_late = True
