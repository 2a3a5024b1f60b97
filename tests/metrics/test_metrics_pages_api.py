"""Metrics pages: a day entered by hand and file uploads, held to what the uploader may change
(a file reaching someone else's creator writes nothing)."""

import io
import re
from datetime import date, timedelta

from sqlalchemy import func, select

from agency.core.users.models import Role
from agency.metrics.models import MetricSnapshot
from tests.factories import PASSWORD

DAY = (date.today() - timedelta(days=2)).isoformat()


def _login(client, user):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    home = client.get("/", follow_redirects=True).get_data(as_text=True)  # a creator lands on the portal
    return re.search(r'name="csrf-token" content="([^"]+)"', home).group(1)


def _upload(client, path, csrf, text, **form):
    return client.post(
        path,
        data={"csrf_token": csrf, "file": (io.BytesIO(text.encode()), "metrics.csv"), **form},
        content_type="multipart/form-data",
    )


def _snapshots(session) -> int:
    return session.scalar(select(func.count()).select_from(MetricSnapshot))


def test_a_managers_file_with_another_managers_creator_writes_nothing(
    client, session, manager, make_user, make_creator
):
    mine, theirs = make_creator(manager=manager), make_creator(manager=make_user(Role.manager))
    csrf = _login(client, manager)
    text = f"account_id,day,followers\n{mine.accounts[0].id},{DAY},10\n{theirs.accounts[0].id},{DAY},20\n"
    refused = _upload(client, "/metrics/import", csrf, text)
    assert refused.status_code == 422 and "do not manage" in refused.get_data(as_text=True)
    assert _snapshots(session) == 0
    done = _upload(client, "/metrics/import", csrf, f"account_id,day,followers\n{mine.accounts[0].id},{DAY},10\n")
    assert done.status_code == 200 and "Imported 1 row(s): 1 new" in done.get_data(as_text=True)
    assert _snapshots(session) == 1


def test_a_creators_upload_takes_only_their_own_accounts(client, session, manager, make_creator, make_portal_user):
    mine, other = make_creator(manager=manager), make_creator(manager=manager)
    csrf = _login(client, make_portal_user(mine))
    foreign = f"account_id,day,followers\n{other.accounts[0].id},{DAY},20\n"
    refused = _upload(client, "/portal/metrics", csrf, foreign, partial="on")
    assert "not yours" in refused.get_data(as_text=True) and other.display_name not in refused.get_data(as_text=True)
    assert _snapshots(session) == 0
    own = _upload(client, "/portal/metrics", csrf, f"account_id,day,followers\n{mine.accounts[0].id},{DAY},30\n")
    assert own.status_code == 200 and _snapshots(session) == 1
    # The API takes the same export from a creator's token, and refuses someone else's the same way.
    assert _upload(client, "/metrics/import", csrf, foreign).status_code == 403


def test_a_day_of_metrics_shows_the_schemas_errors_and_replaces_the_day(client, session, manager, make_creator):
    account = make_creator(manager=manager).accounts[0]
    csrf = _login(client, manager)
    path = f"/accounts/{account.id}/metrics/day"
    bad = client.post(path, data={"csrf_token": csrf, "day": "2999-01-01", "followers": "-1", "views": "ten"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="f-followers-error"' in html and 'id="f-views-error"' in html
    assert client.post(path, data={"csrf_token": csrf, "day": DAY, "followers": "100"}).status_code == 302
    assert client.post(path, data={"csrf_token": csrf, "day": DAY, "followers": "150"}).status_code == 302
    assert session.scalars(select(MetricSnapshot.followers).where(MetricSnapshot.account_id == account.id)).all() == [
        150
    ]
    future = client.post(path, data={"csrf_token": csrf, "day": "2999-01-01", "followers": "1"})
    assert future.status_code == 422 and "in the future" in future.get_data(as_text=True)


def test_the_day_form_corrects_one_number_and_keeps_the_others(client, session, manager, make_creator):
    account = make_creator(manager=manager).accounts[0]
    csrf = _login(client, manager)
    path = f"/accounts/{account.id}/metrics/day"
    first = {"csrf_token": csrf, "day": DAY, "followers": "100", "views": "4000", "likes": "250"}
    assert client.post(path, data=first).status_code == 302
    assert client.post(path, data={"csrf_token": csrf, "day": DAY, "views": "4100"}).status_code == 302
    session.expire_all()
    stored = session.scalar(select(MetricSnapshot).where(MetricSnapshot.account_id == account.id))
    assert (stored.followers, stored.views, stored.likes, stored.shares) == (100, 4100, 250, None)
    assert "4,100" in client.get(path).get_data(as_text=True)  # the recent days table shows it
