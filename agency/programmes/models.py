"""Monetisation programmes, their versioned rules, evaluations, history and activations."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, String, Text, UniqueConstraint, and_, func, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.core.database import Base, str_enum
from agency.roster.models import Platform


class ActivationStatus(str, enum.Enum):
    not_applied = "not_applied"
    applied = "applied"
    active = "active"
    rejected = "rejected"


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"))
    description: Mapped[str] = mapped_column(Text, default="")
    # Where in the app a creator switches it on, e.g. "Settings > Creator tools > Creator Fund".
    activation_path: Mapped[str] = mapped_column(String(300), default="")
    # Legacy programmes stay readable but are not evaluated any more.
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    rules: Mapped[list[RuleVersion]] = relationship(back_populates="program", order_by="RuleVersion.version")


class RuleVersion(Base):
    """One version of a programme's rule. New versions never rewrite old ones."""

    __tablename__ = "rule_versions"
    __table_args__ = (UniqueConstraint("program_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]
    # ISO country codes the version applies to; null means everywhere not covered by a scoped version.
    country_scope: Mapped[list[str] | None] = mapped_column(JSON)
    source_note: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[list[dict]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    program: Mapped[Program] = relationship(back_populates="rules")

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    @classmethod
    def in_force_condition(cls, day: date) -> ColumnElement[bool]:
        """The SQL condition "this version is in force on `day`" (from inclusive, to exclusive).
        Dates alone decide it: a programme switched off or closed keeps answering for the days
        its versions were in force."""
        return and_(cls.effective_from <= day, or_(cls.effective_to.is_(None), cls.effective_to > day))


class EligibilityEvaluation(Base):
    """The current answer for one creator and programme: the verdict, the qualifying (or closest)
    account, and each criterion's result (read with the rule version's criteria, see
    explanation.py). A derived row, rewritten by the engine only when something changed (the
    digest of the results says so). Keyed by (creator, programme): one answer each, no surrogate
    id to draw from a sequence and index for every row written.

    No foreign key, so that writing a roster's evaluations checks nothing per row: a foreign key
    to the creator was a trigger probing `creators` for every row, about a quarter of the
    statement that writes a chunk. Every row is written by the engine from the creators it read
    in the same transaction (the chunk's base table), so it names an existing creator; the
    product archives creators and has no way to delete one (their revenue records, deals and
    invoices would forbid it anyway), and the demo reset, which deletes its creators, deletes
    their evaluations with them. A query joining evaluations to creators states the join.
    Programmes and rule versions are never deleted; an account's deletion refreshes its creator."""

    __tablename__ = "eligibility_evaluations"
    __table_args__ = (Index("ix_eligibility_evaluations_program_eligible", "program_id", "eligible"),)

    creator_id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(primary_key=True)
    rule_version_id: Mapped[int]
    # The account of the programme's platform that qualifies, or the one closest to qualifying.
    account_id: Mapped[int | None]
    eligible: Mapped[bool]
    near_threshold: Mapped[bool] = mapped_column(default=False)
    # Estimated day every failing criterion passes, when each has a forecast (ages: birthdays).
    eta: Mapped[date | None]
    # The JSON the engine builds, stored as it is (PostgreSQL `json`: nothing queries inside it and
    # changes are found by the digest, so the binary JSONB form would only cost building it).
    details: Mapped[list] = mapped_column(JSON)
    digest: Mapped[str | None] = mapped_column(Text)
    # The day of the evaluation that produced this answer (it stays while the answer holds).
    as_of: Mapped[date]
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class EligibilityChange(Base):
    """History: one row each time a creator gains or loses a programme, or a programme ends for them.

    A creator's history starts with their first gain or loss: a first evaluation is not a change."""

    __tablename__ = "eligibility_changes"
    __table_args__ = (Index("ix_eligibility_changes_creator_program", "creator_id", "program_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    program_id: Mapped[int]
    rule_version_id: Mapped[int]
    change: Mapped[str] = mapped_column(String(16))  # gained | lost | ended
    eligible: Mapped[bool]
    # The evaluation day that saw the change, and the day the change took effect (the day of the
    # metric that crossed, the first day of a rule version, a birthday); history reads the latter.
    as_of: Mapped[date] = mapped_column(index=True)
    effective_on: Mapped[date] = mapped_column(index=True)
    changed_criteria: Mapped[list[dict]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)


class EligibilityRefresh(Base):
    """A creator whose evaluations must be refreshed because something they read was written
    (see agency/programmes/freshness.py): one row per creator, consumed by the refresh."""

    __tablename__ = "eligibility_refreshes"

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ProgramActivation(Base):
    """Whether the creator has actually switched a programme on ("eligible but not activated")."""

    __tablename__ = "program_activations"
    __table_args__ = (UniqueConstraint("creator_id", "program_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    status: Mapped[ActivationStatus] = mapped_column(
        str_enum(ActivationStatus, "activation_status"), default=ActivationStatus.not_applied
    )
    applied_on: Mapped[date | None]
    activated_on: Mapped[date | None]
    rejected_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __mapper_args__ = {"version_id_col": version}
