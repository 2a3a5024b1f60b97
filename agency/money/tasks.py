"""Money jobs: recompute the revenue-mix (diversification) snapshots."""

from __future__ import annotations

from agency.core.jobs.service import job
from agency.money.diversification import RiskThresholds, recompute_diversification


@job("recompute_diversification", queue="recompute")
def recompute_diversification_job(session, config, arguments, record) -> dict:
    return recompute_diversification(
        db_session=session,
        base_currency=config.base_currency,
        window_days=config.diversification_window_days,
        thresholds=RiskThresholds.from_config(config),
        creator_ids=arguments.get("creator_ids"),
    ).as_dict()
