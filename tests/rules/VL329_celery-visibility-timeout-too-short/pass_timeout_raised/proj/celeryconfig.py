task_acks_late = True
task_time_limit = 3000
broker_transport_options = {"visibility_timeout": 4 * 3600}
