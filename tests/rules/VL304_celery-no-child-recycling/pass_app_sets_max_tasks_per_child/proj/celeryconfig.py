worker_max_tasks_per_child = 200
