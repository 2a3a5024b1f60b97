"""Signals for reactions that cross domains upwards: a lower domain announces what happened, a
higher one (wired in `agency/registry.py`) reacts in the same session and transaction. Receivers
are called synchronously, in connection order; an exception in one aborts the sender's work."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by deals.service after a deal moved to another stage (the stage is already set, nothing
# is flushed yet). Sender: the deal. Keyword arguments: db_session, from_stage, to_stage.
deal_stage_changed = _signals.signal("deal-stage-changed")

# Sent by deals.service after a deal was opened or edited (flushed). Sender: the deal. Keyword
# arguments: db_session. The money domain sets the commission of a deal that does not override
# it from the representation agreement in force on its contract date.
deal_saved = _signals.signal("deal-saved")

# Sent by a service after it wrote something an eligibility evaluation reads: a metric day, an
# account added, changed or removed, a creator's birth date, country, standing or parental
# agreement, a strike, a creator added or archived. Sender: a short word for what changed.
# Keyword arguments: db_session, creator_ids (the creators whose evaluations it affects).
evaluation_inputs_changed = _signals.signal("evaluation-inputs-changed")

# Sent by the programmes domain once it refreshed the stored evaluations of some creators after
# such a write (in the same transaction). Sender: "eligibility". Keyword arguments: db_session,
# creator_ids, config (the app's Config).
evaluations_refreshed = _signals.signal("evaluations-refreshed")

# Sent by roster.service after a creator was invited to their portal (flushed). Sender: the
# invitation. Keyword arguments: db_session, creator, invited_by (the User), link (the single-use
# link, built from the public address: it carries the plain token, so it is never logged). The
# alerts domain queues the email to the creator in the outbox, in the same transaction.
creator_invited = _signals.signal("creator-invited")
