task_default_queue = 'main'
