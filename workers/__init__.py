"""Background work: RQ queues and job functions, the periodic scheduler, the email sender."""
