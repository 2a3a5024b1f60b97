"""Alert jobs: evaluate alerts, queue digests, send the outbox, and the hourly refresh of every
derived view (eligibility, diversification, then alerts)."""

from __future__ import annotations

from decimal import Decimal

from agency.alerts.mailer import send_pending
from agency.alerts.notifications import queue_due_digests, queue_immediate
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.core.database import utcnow
from agency.core.jobs.service import job
from agency.money.tasks import recompute_diversification_job
from agency.programmes.tasks import recompute_eligibility_job


@job("evaluate_alerts", queue="recompute")
def evaluate_alerts_job(session, config, arguments, record) -> dict:
    settings = AlertSettings(
        today=utcnow().date(), hhi_high=Decimal(config.risk_hhi_high), platform_high=Decimal(config.risk_platform_high)
    )
    result = evaluate_alerts(db_session=session, settings=settings)
    emails = queue_immediate(db_session=session, alert_ids=result.opened_ids, public_url=config.public_url)
    return result.as_dict() | {"immediate_emails": emails, "rows_changed": result.opened + result.resolved}


@job("queue_digests", queue="notifications")
def queue_digests_job(session, config, arguments, record) -> dict:
    queued = queue_due_digests(
        db_session=session, now=utcnow(), public_url=config.public_url, force=bool(arguments.get("force"))
    )
    return {"digests_queued": queued, "rows_changed": queued}


@job("send_emails", queue="notifications")
def send_emails_job(session, config, arguments, record) -> dict:
    # The sender commits per message (attempt first, then sent), so it uses its own sessions.
    return send_pending(session.get_bind(), config)


@job("refresh_all", queue="recompute")
def refresh_all_job(session, config, arguments, record) -> dict:
    """The hourly refresh: eligibility, diversification, then alerts (and immediate emails)."""
    eligibility = recompute_eligibility_job(session, config, arguments, record)
    diversification = recompute_diversification_job(session, config, arguments, record)
    alerts = evaluate_alerts_job(session, config, arguments, record)
    return {
        "eligibility": eligibility,
        "diversification": diversification,
        "alerts": alerts,
        "rows_changed": eligibility["inserted"]
        + eligibility["updated"]
        + diversification["written"]
        + alerts["opened"]
        + alerts["resolved"],
    }
