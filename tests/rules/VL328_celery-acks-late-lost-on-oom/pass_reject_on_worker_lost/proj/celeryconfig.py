task_acks_late = True
task_reject_on_worker_lost = True
