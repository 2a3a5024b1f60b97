"""Application metrics (Prometheus collectors), incremented where the work happens.
Plain prometheus_client objects: services and workers may import them without Flask."""

from prometheus_client import Counter, Gauge, Histogram

JOB_SECONDS = Histogram("agency_job_duration_seconds", "Background job duration", ["job", "outcome"])
ALERTS_OPENED = Counter("agency_alerts_opened_total", "Alerts opened", ["kind"])
EMAILS = Counter("agency_emails_total", "Emails handled by the sender", ["outcome"])
QUEUE_DEPTH = Gauge("agency_queue_depth", "Jobs waiting per queue (read at scrape time)", ["queue"])
