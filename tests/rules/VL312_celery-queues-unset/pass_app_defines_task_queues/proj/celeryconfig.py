from kombu import Queue
task_queues = (Queue("default"), Queue("reports"))
