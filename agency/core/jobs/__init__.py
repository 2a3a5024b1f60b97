"""Background jobs: the job registry, records, RQ hand-over, retries and scheduled runs."""
