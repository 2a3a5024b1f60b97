"""Programme jobs: recompute eligibility (everyone, or the creators an import touched)."""

from __future__ import annotations

from datetime import date

from agency.core.jobs.service import job, progress_reporter
from agency.programmes.eligibility import recompute_eligibility
from agency.programmes.features import EngineSettings


@job("recompute_eligibility", queue="recompute")
def recompute_eligibility_job(session, config, arguments, record) -> dict:
    as_of = date.fromisoformat(arguments["as_of"]) if arguments.get("as_of") else None
    return recompute_eligibility(
        db_session=session,
        creator_ids=arguments.get("creator_ids"),
        as_of=as_of,
        settings=EngineSettings.from_config(config),
        progress=progress_reporter(record),
    ).as_dict()
