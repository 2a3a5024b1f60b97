"""The dashboard's trends: revenue by month and source, eligibility gained and lost by week, and
the creators nearest to a threshold. Each is one grouped query; charts and their tables read the
same numbers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from agency.currencies.service import RateBook
from agency.money.models import RevenueRecord
from agency.programmes.explanation import explain_many
from agency.programmes.models import EligibilityChange, EligibilityEvaluation
from agency.programmes.service import roster_eligibility_query
from agency.roster.models import Creator


def month_starts(today: date, months: int = 12) -> list[date]:
    first = today.replace(day=1)
    starts = [first]
    for _ in range(months - 1):
        starts.append((starts[-1] - timedelta(days=1)).replace(day=1))
    return list(reversed(starts))


def revenue_by_month(session, scope, base_currency: str, today: date, months: int = 12) -> dict:
    """Revenue of the last `months` months by source, in the base currency. Records are summed per
    day, source and currency in SQL and each sum converted at that day's rate (so a chart of a big
    roster reads a few thousand rows, not every record); amounts with no rate are counted apart."""
    starts = month_starts(today, months)
    rows = session.execute(
        select(RevenueRecord.earned_on, RevenueRecord.source, RevenueRecord.currency, func.sum(RevenueRecord.amount))
        .join(Creator, Creator.id == RevenueRecord.creator_id)
        .where(scope, RevenueRecord.archived_at.is_(None), RevenueRecord.earned_on >= starts[0])
        .group_by(RevenueRecord.earned_on, RevenueRecord.source, RevenueRecord.currency)
    ).all()
    book = RateBook(session, base_currency, {r[2] for r in rows})
    labels = [s.strftime("%Y-%m") for s in starts]
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(labels, Decimal("0.00")))
    unconverted = 0
    for day, source, currency, amount in rows:
        converted = book.convert(amount, currency, day)
        if converted is None:
            unconverted += 1
            continue
        totals[source.value][day.strftime("%Y-%m")] += converted
    sources = sorted(totals, key=lambda s: -sum(totals[s].values()))
    return {
        "months": labels,
        "sources": {s: [totals[s][m] for m in labels] for s in sources},
        "totals": [sum((totals[s][m] for s in sources), Decimal("0.00")) for m in labels],
        "unconverted": unconverted,
    }


def eligibility_by_week(session, scope, today: date, weeks: int = 12) -> dict:
    """Programmes gained and lost per week (weeks start on Monday), the last `weeks` weeks."""
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    rows = session.execute(
        select(EligibilityChange.effective_on, EligibilityChange.change, func.count())
        .join(Creator, Creator.id == EligibilityChange.creator_id)
        .where(scope, EligibilityChange.change.in_(["gained", "lost"]), EligibilityChange.effective_on >= first)
        .group_by(EligibilityChange.effective_on, EligibilityChange.change)
    ).all()
    starts = [first + timedelta(weeks=n) for n in range(weeks)]
    counts = {"gained": [0] * weeks, "lost": [0] * weeks}
    for day, change, count in rows:
        index = min((day - first).days // 7, weeks - 1)
        counts[change][index] += count
    return {"weeks": [s.isoformat() for s in starts], **counts}


def nearest_to_threshold(session, manager_id: int | None, limit: int = 10) -> list[dict]:
    """Creators near a threshold they do not meet yet, closest first: each with the programme, the
    failing criterion closest to passing (how much is missing) and the estimated day."""
    # Every row here is already within the margin (e.g. 90 %) of each failing threshold; the soonest
    # ETAs come first, and the closest of those are shown.
    stmt = roster_eligibility_query(near_threshold=True, eligible=False, manager_id=manager_id)
    stmt = stmt.order_by(None).order_by(
        EligibilityEvaluation.eta.is_(None),
        EligibilityEvaluation.eta,
        EligibilityEvaluation.creator_id,
        EligibilityEvaluation.program_id,
    )
    rows = session.execute(stmt.limit(100)).all()
    documents = explain_many(session, [(ev.rule_version_id, ev.details) for ev, _c, _p, _a in rows])
    found = []
    for (evaluation, creator, program, _activation), document in zip(rows, documents):
        failing = [
            d
            for d in document
            if not d.get("passed") and isinstance(d.get("actual"), (int, float)) and d.get("threshold")
        ]
        if not failing:
            continue
        closest = max(failing, key=lambda d: d["actual"] / d["threshold"])
        found.append(
            {
                "creator_id": creator.id,
                "creator": creator.display_name,
                "program": program.name,
                "criterion": closest.get("label", ""),
                "progress": min(1.0, closest["actual"] / closest["threshold"]),
                "gap": closest.get("gap"),
                "eta": evaluation.eta,
            }
        )
    found.sort(key=lambda f: (-f["progress"], f["eta"] or date.max))
    return found[:limit]
