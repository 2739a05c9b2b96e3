# gunicorn settings. The access log leaves out the client address (%(h)s) and the user agent
# (%(a)s): the public side must not record who visited.
import os

bind = "127.0.0.1:8001"
# The settings read the same variable: while the cache is down each worker allows its share of
# each rate limit.
workers = int(os.environ.get("TIPLINE_WEB_WORKERS", "3"))
timeout = 60
accesslog = "-"
access_log_format = '"%(r)s" %(s)s %(b)s %(L)ss'
forwarded_allow_ips = "127.0.0.1"
limit_request_line = 8190
