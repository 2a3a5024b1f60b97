"""Gunicorn settings for the web process. Every value can be overridden with GUNICORN_* variables
(listed in .env.example). Run: `gunicorn --config deploy/gunicorn.conf.py wsgi:app`."""

import multiprocessing
import os

# gthread: requests mostly wait on PostgreSQL, so a few threads per process keep the CPU busy
# without the memory cost of more processes. Each process has its own SQLAlchemy pool
# (sized for its threads), so total DB connections ~= replicas x workers x threads: keep that
# under the managed database's connection limit.
workers = int(os.environ.get("GUNICORN_WORKERS", min(4, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:5000")
# Imports can take a while on big files; anything longer runs as a background job.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
# Matches the pod's terminationGracePeriodSeconds (40s) minus headroom, so requests in flight
# finish on rollout.
graceful_timeout = 30
# Seconds an idle keep-alive connection stays open; short because a proxy sits in front.
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound; jitter avoids all
# workers restarting at once. A restart costs about a second of CPU (the app is imported again),
# so it must stay rare at full load: a worker serves up to a few hundred requests a second
# (bench/api_load.py), i.e. a restart every few minutes at most.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 50000))
max_requests_jitter = max_requests // 10
# The app writes one structured JSON access line per request (agency/core/observability.py), so
# gunicorn's own text access log is off unless GUNICORN_ACCESS_LOG names a file or "-".
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# Heartbeat files in RAM: a read-only root filesystem (k8s securityContext) has no writable /tmp
# disk, and a slow disk would make healthy workers look stuck.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Only trust X-Forwarded-* from the proxy in front (set to the ingress/LB address range).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Each worker builds its own app (and connection pool); preloading would share pool sockets
# across forks.
preload_app = False

# Metrics are per worker process: a scrape through the Service reaches one worker at a time.
# Scrape each pod's workers, or run one worker per pod, when exact totals matter.
