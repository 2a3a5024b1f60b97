"""Gunicorn settings for the web process. Every value can be overridden with GUNICORN_* variables
(listed in .env.example). Run: `gunicorn --config deploy/gunicorn.conf.py wsgi:app`."""

import multiprocessing
import os

# sync workers: each process takes a connection from the listening socket only when it is free
# and answers one request at a time, so every request waits in one queue for the first free
# worker. With gthread workers a keep-alive connection stays with the process that accepted it,
# which accepts more while its threads are busy: at 16 clients looping on roster reads the p99
# was about twice the average wait, against 1.1-1.3 times with sync workers (README, "Running in
# production"). One worker more than cores keeps the CPU busy while a request waits on
# PostgreSQL. sync workers want a buffering proxy in front (an ingress, nginx): a slow client
# would hold a worker for as long as it takes to send or read. GUNICORN_WORKER_CLASS=gthread
# (with GUNICORN_THREADS) serves keep-alive clients directly. Each process has its own
# SQLAlchemy pool, so DB connections ~= replicas x workers x threads: keep that under the
# managed database's connection limit.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
# Threads per worker, gthread only (gunicorn turns a sync worker with threads into gthread).
threads = int(os.environ.get("GUNICORN_THREADS", 1 if worker_class == "sync" else 4))
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
