"""Gunicorn settings for the web process. Every value can be overridden with GUNICORN_* variables."""
import multiprocessing
import os

# Threads share one process's connection pool; 2 workers x 4 threads suits a small container.
workers = int(os.environ.get("GUNICORN_WORKERS", min(4, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:5000")
# Imports can take a while on big files; anything longer runs as a background job.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
