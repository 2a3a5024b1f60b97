"""Alert jobs: evaluate alerts (and queue immediate emails), queue digests, send the outbox."""

from __future__ import annotations

from agency.alerts.mailer import send_pending
from agency.alerts.notifications import ImmediateEmails, queue_due_digests
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.core.database import utcnow
from agency.core.jobs.service import job


@job("evaluate_alerts", queue="recompute")
def evaluate_alerts_job(session, config, arguments, record) -> dict:
    settings = AlertSettings.from_config(config, utcnow().date())
    emails = ImmediateEmails(session, config.public_url)
    result = evaluate_alerts(
        db_session=session, settings=settings, chunk_size=config.recompute_chunk_size, emails=emails
    )
    return result.as_dict() | {
        "immediate_emails": emails.queued,
        "failed_emails": emails.failed,  # managers whose immediate emails failed: their alerts wait for the digest
        "rows_changed": result.opened + result.resolved,
    }


@job("queue_digests", queue="notifications")
def queue_digests_job(session, config, arguments, record) -> dict:
    failed: list[dict] = []
    queued = queue_due_digests(
        db_session=session,
        now=utcnow(),
        public_url=config.public_url,
        force=bool(arguments.get("force")),
        failed=failed,
    )
    return {"digests_queued": queued, "rows_changed": queued, "failed_items": failed}


@job("send_emails", queue="notifications")
def send_emails_job(session, config, arguments, record) -> dict:
    # The sender commits per message (attempt first, then sent), so it uses its own sessions.
    return send_pending(session.get_bind(), config)
