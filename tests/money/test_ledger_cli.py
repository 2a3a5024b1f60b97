"""`agency ledger export --from --to`: the journal of a period as CSV for the accountant."""

import csv
import io
from datetime import date
from decimal import Decimal

from agency.core.audit.service import Actor
from agency.deals.models import Brand
from agency.money.ledger import CASH, RECEIVABLES, Line, Posting, post, spreadsheet_safe


def test_export_writes_the_period_safe_for_spreadsheets(app, db, session):
    brand = Brand(name='=HYPERLINK("http://x")')
    session.add(brand)
    session.flush()
    for day, ref in ((date(2026, 2, 27), "before"), (date(2026, 3, 3), "@SUM(A1)"), (date(2026, 4, 1), "after")):
        post(
            session,
            Posting(
                posted_on=day, kind="test", event_key=f"test:{ref}", description=f"-{ref} from {brand.name}",
                base_currency="EUR", reference=ref, actor_label=Actor.system("test").label,
                lines=[Line(CASH, debit=Decimal("12.50")), Line(RECEIVABLES, credit=Decimal("12.50"))],
            ),
        )  # fmt: skip
    session.commit()
    result = app.test_cli_runner().invoke(args=["ledger", "export", "--from", "2026-03-01", "--to", "2026-03-31"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["date"], r["account_code"], r["debit"], r["credit"]) for r in rows] == [
        ("2026-03-03", "1000", "12.50", "0.00"),
        ("2026-03-03", "1200", "0.00", "12.50"),
    ]
    assert all(r["reference"] == "'@SUM(A1)" and r["description"].startswith("'-@SUM") for r in rows)
    assert rows[0]["currency"] == "EUR"
    bad = app.test_cli_runner().invoke(args=["ledger", "export", "--from", "2026-03-31", "--to", "2026-03-01"])
    assert bad.exit_code != 0


def test_spreadsheet_safe_cells():
    assert spreadsheet_safe("=1+1") == "'=1+1"
    assert spreadsheet_safe("+33 6") == "'+33 6"
    assert spreadsheet_safe("-12.50") == "-12.50"
    assert spreadsheet_safe("Maison") == "Maison"
