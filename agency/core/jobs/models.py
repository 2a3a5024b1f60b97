"""Background job records and the scheduler's run guard."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from agency.core.database import Base, str_enum


class JobStatus(str, enum.Enum):
    queued = "queued"
    started = "started"
    # A job split into chunk jobs: it finishes when its last chunk does.
    waiting = "waiting"
    finished = "finished"
    failed = "failed"


class JobRecord(Base):
    """One unit of background work, visible through the API whether it ran on a worker or in-process.
    Written before the job reaches Redis, so work is not lost when Redis is down."""

    __tablename__ = "job_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str] = mapped_column(String(32))
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, "job_status"), index=True, default=JobStatus.queued)
    arguments: Mapped[dict] = mapped_column(JSON, default=dict)
    # Deduplicates concurrent requests for the same work (e.g. recompute of the same creators).
    dedup_key: Mapped[str | None] = mapped_column(String(200), index=True)
    in_redis: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None]
    # The job this one is a chunk of (see `fan_out`); its progress counts its chunks.
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    enqueued_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class RunStatus(str, enum.Enum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class ScheduledRun(Base):
    """The run guard: one row per periodic job and period, so each period runs once however many
    schedulers are up and after restarts."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (UniqueConstraint("job_name", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(40))
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, "run_status"), default=RunStatus.running)
    job_id: Mapped[str | None] = mapped_column(String(36))
    rows_changed: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
