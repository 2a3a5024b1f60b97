"""Money chain benchmark: the receivables aging report and a month of statements for every
creator, read from a ledger of --invoices invoices (about 10 journal lines each: about 1,000,000
lines for the default 100,000), against hand-written SQL floors run in the same process.

    .venv/bin/python bench/ledger.py --invoices 100000 --creators 2000

The data is written set-based (INSERT ... SELECT over generate_series) straight into the tables
the services write: each invoice's issue entry (receivable, VAT on half of them, creator payable,
agency commission, a manager's and a referrer's share), 80 % of invoices paid (payment, and an
allocation with an exchange line), and a monthly payout per creator. Then it checks that every
entry balances.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from agency.core.database import refresh_statistics  # noqa: E402
from agency.money.aging import aging_report  # noqa: E402
from agency.money.creator_statements import month_statements  # noqa: E402
from agency.money.ledger import ensure_accounts  # noqa: E402
from bench.common import scratch_database, timed  # noqa: E402

AS_OF = date(2026, 6, 30)
MONTH = "2026-05"
START = date(2025, 7, 1)  # invoices are issued over the year before AS_OF

SETUP = [
    # staff, creators, brands
    """INSERT INTO users (email, full_name, password_hash, role, timezone, is_active)
       SELECT 'manager' || g || '@bench.example', 'Manager ' || g, 'x', 'manager', 'UTC', true
       FROM generate_series(1, 20) g""",
    """INSERT INTO creators (display_name, legal_name, country, niche, languages, manager_id, status,
                             guideline_standing, parental_agreement_on_file, notes, version)
       SELECT 'Creator ' || g, '', 'FR', 'other', '[]', 1 + g % 20, 'active', 'good', false, '', 1
       FROM generate_series(1, :creators) g""",
    """INSERT INTO brands (name, industry, website, contacts, notes, version)
       SELECT 'Brand ' || g, '', '', '[]', '', 1 FROM generate_series(1, :brands) g""",
    # one deal and one issued invoice per row: fee 100..5,099, 20 % commission, VAT 20 % on half
    """INSERT INTO deals (id, creator_id, brand_id, title, source, fee_amount, fee_currency, commission_percent,
                          stage, invoiced_on, notes, version)
       SELECT g, 1 + g % :creators, 1 + (g * 7) % :brands, 'Deal ' || g, 'direct', 100 + g % 5000, 'EUR', 20,
              CASE WHEN g % 5 = 0 THEN 'invoiced' ELSE 'paid' END, DATE :start + (g % 360), '', 1
       FROM generate_series(1, :invoices) g""",
    """INSERT INTO invoices (id, kind, number, deal_id, creator_id, brand_id, status, currency, issued_on, due_on,
                             payment_terms_days, subtotal, vat_rate, vat_amount, total, amount_paid, amount_credited,
                             reverse_charge, rate_to_base, commission_percent, splits, notes, version)
       SELECT d.id, 'invoice', 'INV-B-' || d.id, d.id, d.creator_id, d.brand_id,
              CASE WHEN d.id % 5 = 0 THEN 'issued' ELSE 'paid' END, 'EUR', d.invoiced_on, d.invoiced_on + 30, 30,
              d.fee_amount, v.rate, round(d.fee_amount * v.rate / 100, 2),
              d.fee_amount + round(d.fee_amount * v.rate / 100, 2),
              CASE WHEN d.id % 5 = 0 THEN 0 ELSE d.fee_amount + round(d.fee_amount * v.rate / 100, 2) END, 0,
              false, 1, 20, '[]', '', 1
       FROM deals d CROSS JOIN LATERAL (SELECT CASE WHEN d.id % 2 = 0 THEN 20 ELSE 0 END AS rate) v""",
    # issue entries: receivable / VAT, creator payable (80 %), agency (12 %) and manager (8 %) commission
    """INSERT INTO journal_entries (id, posted_on, kind, event_key, description, reference, actor_label)
       SELECT id, issued_on, 'invoice_issued', 'invoice-issued:' || id, 'Invoice ' || number, number, 'bench'
       FROM invoices""",
    """INSERT INTO journal_lines (entry_id, account_code, posted_on, debit, credit, currency, amount_currency,
                                  creator_id, brand_id, invoice_id, payee, memo)
       SELECT i.id, x.code, i.issued_on, x.debit, x.credit, 'EUR', x.debit - x.credit, i.creator_id,
              CASE WHEN x.code = '1200' THEN i.brand_id END, i.id, x.payee, ''
       FROM invoices i CROSS JOIN LATERAL (VALUES
            ('1200', i.total, 0::numeric, NULL::text),
            ('2400', 0, i.vat_amount, NULL),
            ('2100', 0, i.subtotal - round(i.subtotal * 0.2, 2), NULL),
            ('4000', 0, round(i.subtotal * 0.2, 2) - round(i.subtotal * 0.05, 2) - round(i.subtotal * 0.03, 2), NULL),
            ('2200', 0, round(i.subtotal * 0.05, 2), 'user:' || (1 + i.creator_id % 20)),
            ('2200', 0, round(i.subtotal * 0.03, 2), 'Studio Nord')) AS x(code, debit, credit, payee)
       WHERE x.debit <> 0 OR x.credit <> 0""",
    # payments (cash / brand credit) and allocations (brand credit / receivable, an exchange line)
    """INSERT INTO journal_entries (id, posted_on, kind, event_key, description, reference, actor_label)
       SELECT :invoices + id, issued_on + 20 + id % 40, 'payment_received', 'payment:' || id, 'Payment', number, 'bench'
       FROM invoices WHERE status = 'paid'""",
    """INSERT INTO journal_lines (entry_id, account_code, posted_on, debit, credit, currency, amount_currency,
                                  creator_id, brand_id, invoice_id, payee, memo)
       SELECT :invoices + i.id, x.code, i.issued_on + 20 + i.id % 40, x.debit, x.credit, 'EUR', x.debit - x.credit,
              NULL, i.brand_id, NULL, NULL, ''
       FROM invoices i CROSS JOIN LATERAL (VALUES ('1000', i.total + 1, 0::numeric), ('2300', 0, i.total + 1))
            AS x(code, debit, credit)
       WHERE i.status = 'paid'""",
    """INSERT INTO journal_entries (id, posted_on, kind, event_key, description, reference, actor_label)
       SELECT 2 * :invoices + id, issued_on + 20 + id % 40, 'payment_allocated', 'allocation:' || id, 'Allocation',
              number, 'bench'
       FROM invoices WHERE status = 'paid'""",
    """INSERT INTO journal_lines (entry_id, account_code, posted_on, debit, credit, currency, amount_currency,
                                  creator_id, brand_id, invoice_id, payee, memo)
       SELECT 2 * :invoices + i.id, x.code, i.issued_on + 20 + i.id % 40, x.debit, x.credit, 'EUR',
              x.debit - x.credit, i.creator_id, i.brand_id, i.id, NULL, ''
       FROM invoices i CROSS JOIN LATERAL (VALUES ('2300', i.total + 1, 0::numeric), ('1200', 0, i.total),
            ('7000', 0, 1)) AS x(code, debit, credit)
       WHERE i.status = 'paid'""",
    # monthly payouts per creator
    """INSERT INTO journal_entries (id, posted_on, kind, event_key, description, reference, actor_label)
       SELECT 3 * :invoices + m, DATE :start + 30 * m + 28, 'creator_payout', 'payout-batch:' || m, 'Payouts',
              'SEPA-' || m, 'bench'
       FROM generate_series(1, 11) m""",
    """INSERT INTO journal_lines (entry_id, account_code, posted_on, debit, credit, currency, amount_currency,
                                  creator_id, brand_id, invoice_id, payee, memo)
       SELECT 3 * :invoices + m, x.code, DATE :start + 30 * m + 28, x.debit, x.credit, 'EUR', x.debit - x.credit,
              c, NULL, NULL, NULL, ''
       FROM generate_series(1, 11) m, generate_series(1, :creators) c,
            LATERAL (VALUES ('2100', 50::numeric, 0::numeric), ('1000', 0, 50)) AS x(code, debit, credit)""",
    "SELECT setval(pg_get_serial_sequence('journal_entries', 'id'), (SELECT max(id) FROM journal_entries))",
    "SELECT setval(pg_get_serial_sequence('invoices', 'id'), (SELECT max(id) FROM invoices))",
    "SELECT setval(pg_get_serial_sequence('deals', 'id'), (SELECT max(id) FROM deals))",
]

AGING_FLOOR = """
WITH owed AS (
    SELECT l.invoice_id, sum(l.debit - l.credit) AS owed FROM journal_lines l
    WHERE l.account_code = '1200' AND l.posted_on <= :as_of GROUP BY l.invoice_id HAVING sum(l.debit - l.credit) <> 0
), aged AS (
    SELECT i.brand_id, c.manager_id, o.owed,
           CASE WHEN :as_of - i.due_on <= 0 THEN 0 WHEN :as_of - i.due_on <= 30 THEN 1
                WHEN :as_of - i.due_on <= 60 THEN 2 WHEN :as_of - i.due_on <= 90 THEN 3 ELSE 4 END AS bucket
    FROM owed o JOIN invoices i ON i.id = o.invoice_id JOIN creators c ON c.id = i.creator_id
)
SELECT 'brand', brand_id, bucket, sum(owed) FROM aged GROUP BY brand_id, bucket
UNION ALL
SELECT 'manager', manager_id, bucket, sum(owed) FROM aged GROUP BY manager_id, bucket
"""
DSO_FLOOR = """
SELECT i.brand_id, sum(l.debit) FROM journal_lines l JOIN invoices i ON i.id = l.invoice_id
WHERE l.account_code = '1200' AND l.posted_on BETWEEN :since AND :as_of AND i.kind = 'invoice' GROUP BY i.brand_id
"""
STATEMENTS_FLOOR = """
SELECT l.creator_id,
       sum(CASE WHEN l.account_code = '2100' AND l.posted_on < :first THEN l.credit - l.debit ELSE 0 END),
       sum(CASE WHEN l.account_code = '2100' AND l.posted_on >= :first AND e.kind <> 'creator_payout'
                THEN l.credit - l.debit ELSE 0 END),
       sum(CASE WHEN l.account_code IN ('4000', '2200') AND l.posted_on >= :first THEN l.credit - l.debit ELSE 0 END),
       sum(CASE WHEN l.account_code = '2100' AND l.posted_on >= :first AND e.kind = 'creator_payout'
                THEN l.debit - l.credit ELSE 0 END)
FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
WHERE l.creator_id IS NOT NULL AND l.posted_on <= :last
GROUP BY l.creator_id
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--creators", type=int, default=2_000)
    parser.add_argument("--brands", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3, help="best of N for each measurement")
    args = parser.parse_args()
    url = scratch_database("agency_bench_ledger")
    engine = create_engine(url)
    results: dict[str, float] = {}
    params = {"invoices": args.invoices, "creators": args.creators, "brands": args.brands, "start": START}
    with Session(engine) as session:
        with timed("load (set-based inserts)", results):
            ensure_accounts(session)
            for statement in SETUP:
                session.execute(text(statement.replace("DATE :start", f"DATE '{START.isoformat()}'")), params)
            refresh_statistics(session.connection(), ["invoices", "journal_lines", "journal_entries", "deals"])
            session.commit()
        lines = session.scalar(text("SELECT count(*) FROM journal_lines"))
        unbalanced = session.scalar(
            text(
                "SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id "
                "HAVING sum(debit) <> sum(credit)) u"
            )  # fmt: skip
        )
        print(f"  {args.invoices:,} invoices, {lines:,} journal lines, {unbalanced} unbalanced entries", flush=True)

        def best(label: str, run) -> float:
            times = []
            for n in range(args.runs):
                timing: dict[str, float] = {}
                with timed(f"{label} (run {n + 1})", timing):
                    run()
                times.append(timing[f"{label} (run {n + 1})"])
            results[label] = min(times)
            return results[label]

        first = date.fromisoformat(f"{MONTH}-01")
        last = date(2026, 5, 31)
        floor_params = {"as_of": AS_OF, "since": AS_OF - timedelta(days=89)}
        aging = best("aging report (service)", lambda: aging_report(session, as_of=AS_OF, base_currency="EUR"))
        aging_floor = best(
            "aging floor (hand-written SQL)",
            lambda: (
                session.execute(text(AGING_FLOOR), floor_params).all(),
                session.execute(text(DSO_FLOOR), floor_params).all(),
            ),
        )
        statements = best(
            "month statements, every creator (service)",
            lambda: month_statements(session, month=MONTH, base_currency="EUR"),
        )
        statements_floor = best(
            "month statements floor (hand-written SQL)",
            lambda: session.execute(text(STATEMENTS_FLOOR), {"first": first, "last": last}).all(),
        )
    engine.dispose()
    print(f"  aging: service / floor = {aging / aging_floor:.2f}x")
    print(f"  statements: service / floor = {statements / statements_floor:.2f}x")


if __name__ == "__main__":
    main()
