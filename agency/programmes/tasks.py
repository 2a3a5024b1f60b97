"""Programme jobs: recompute eligibility, for everyone or for some creators, chunk by chunk; and
refresh the creators that writes left waiting (see freshness.py).

`recompute_eligibility` splits the work into chunks of creators (id ranges) and fans them out
as `recompute_eligibility_chunk` jobs: with Redis, any number of workers share them and the job
finishes when its last chunk does; without Redis, they run one after another in-process. A
chunk killed half-way left nothing behind (its work is one transaction) and simply runs again.
`refresh_requested_evaluations` does the same for the creators waiting after writes.
"""

from __future__ import annotations

from datetime import date

from agency.core.jobs.service import fan_out, job, progress_reporter
from agency.programmes.eligibility import recompute_chunk, recompute_eligibility
from agency.programmes.features import EngineSettings
from agency.programmes.freshness import pending_count, refresh_chunk, refresh_requested
from agency.roster.chunks import Chunk, chunks_of

# Small requests (a few creators after a write) run as one job, not as chunks.
SINGLE_JOB_CREATORS = 200


def _as_of(arguments: dict) -> date:
    return date.fromisoformat(arguments["as_of"]) if arguments.get("as_of") else date.today()


@job("recompute_eligibility", queue="recompute")
def recompute_eligibility_job(session, config, arguments, record) -> dict:
    settings = EngineSettings.from_config(config)
    creator_ids = arguments.get("creator_ids")
    if creator_ids is not None and len(creator_ids) <= SINGLE_JOB_CREATORS:
        return recompute_eligibility(
            db_session=session,
            creator_ids=creator_ids,
            as_of=_as_of(arguments),
            settings=settings,
            progress=progress_reporter(record),
        ).as_dict()
    as_of = _as_of(arguments).isoformat()
    chunks = [{"as_of": as_of} | c.as_arguments() for c in chunks_of(session, creator_ids, config.recompute_chunk_size)]
    return fan_out(session, config, record, "recompute_eligibility_chunk", chunks)


@job("recompute_eligibility_chunk", queue="recompute")
def recompute_eligibility_chunk_job(session, config, arguments, record) -> dict:
    chunk = Chunk.from_arguments(arguments)
    result = recompute_chunk(session, chunk, _as_of(arguments), EngineSettings.from_config(config))
    return result.as_dict() | {"rows_changed": result.inserted + result.updated + result.removed}


@job("refresh_requested_evaluations", queue="recompute")
def refresh_requested_evaluations_job(session, config, arguments, record) -> dict:
    """Refresh every creator a write left waiting, then their alerts: here when few wait, else in
    chunks of id ranges over workers (a rule change leaves the whole roster waiting)."""
    if pending_count(session) <= config.recompute_chunk_size:
        return refresh_requested(session, config, config.recompute_chunk_size).as_dict()
    chunks = [c.as_arguments() for c in chunks_of(session, None, config.recompute_chunk_size)]
    return fan_out(session, config, record, "refresh_requested_chunk", chunks)


@job("refresh_requested_chunk", queue="recompute")
def refresh_requested_chunk_job(session, config, arguments, record) -> dict:
    return refresh_chunk(session, config, Chunk.from_arguments(arguments)).as_dict()
