task_acks_late = True
