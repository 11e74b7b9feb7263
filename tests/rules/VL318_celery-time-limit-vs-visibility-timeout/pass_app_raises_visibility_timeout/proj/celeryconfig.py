task_time_limit = 8 * 60 * 60
broker_transport_options = {"visibility_timeout": 9 * 3600}
