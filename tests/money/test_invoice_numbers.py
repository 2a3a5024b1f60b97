"""Invoice numbers are gapless under concurrency (PostgreSQL): issues running at the same time
wait on the year's counter row, and a rolled-back issue gives its number back."""

import threading

from sqlalchemy import delete
from sqlalchemy.orm import Session

from agency.money.chain_models import InvoiceCounter
from agency.money.invoices import next_number

SERIES, YEAR = "TST", 2099


def test_concurrent_numbers_have_no_gap_and_no_duplicate(app):
    engine = app.extensions["agency_db"].engine
    taken: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def issue(rollback_every: int):
        barrier.wait()
        for n in range(15):
            with Session(engine) as session:
                number = next_number(session, SERIES, YEAR)
                if n % rollback_every == rollback_every - 1:
                    session.rollback()  # the number goes back to the counter
                    continue
                session.commit()
                with lock:
                    taken.append(number)

    try:
        threads = [threading.Thread(target=issue, args=(every,)) for every in (3, 4, 5, 100)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        numbers = sorted(int(n.rsplit("-", 1)[1]) for n in taken)
        assert numbers == list(range(1, len(taken) + 1))
        assert len(taken) == 60 - 5 - 3 - 3
    finally:
        with Session(engine) as session:
            session.execute(delete(InvoiceCounter).where(InvoiceCounter.series == SERIES))
            session.commit()
