"""Money jobs: recompute the revenue-mix (diversification) snapshots, chunk by chunk.

As for eligibility (agency/programmes/tasks.py): the job splits the roster into chunk jobs that
workers share (in-process one after another without Redis); a small request is one job.
"""

from __future__ import annotations

from datetime import date

from agency.core.jobs.service import fan_out, job
from agency.money.diversification import MixSettings, recompute_chunk, recompute_diversification
from agency.roster.chunks import Chunk, chunks_of

SINGLE_JOB_CREATORS = 200


def _as_of(arguments: dict) -> date:
    return date.fromisoformat(arguments["as_of"]) if arguments.get("as_of") else date.today()


@job("recompute_diversification", queue="recompute")
def recompute_diversification_job(session, config, arguments, record) -> dict:
    creator_ids = arguments.get("creator_ids")
    if creator_ids is not None and len(creator_ids) <= SINGLE_JOB_CREATORS:
        return recompute_diversification(
            db_session=session,
            settings=MixSettings.from_config(config),
            as_of=_as_of(arguments),
            creator_ids=creator_ids,
        ).as_dict()
    as_of = _as_of(arguments).isoformat()
    chunks = [{"as_of": as_of} | c.as_arguments() for c in chunks_of(session, creator_ids, config.recompute_chunk_size)]
    return fan_out(session, config, record, "recompute_diversification_chunk", chunks)


@job("recompute_diversification_chunk", queue="recompute")
def recompute_diversification_chunk_job(session, config, arguments, record) -> dict:
    creators = Chunk.from_arguments(arguments)
    return recompute_chunk(session, creators, _as_of(arguments), MixSettings.from_config(config)).as_dict()
