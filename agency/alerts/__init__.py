"""Alerts: evaluators, lifecycle, notification preferences, the email outbox and digests."""
