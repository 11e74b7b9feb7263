task_acks_late = False
