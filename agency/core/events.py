"""Signals for reactions that cross domains upwards: a lower domain announces what happened, a
higher one (wired in `agency/registry.py`) reacts in the same session and transaction. Receivers
are called synchronously, in connection order; an exception in one aborts the sender's work."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by deals.service after a deal moved to another stage (the stage is already set, nothing
# is flushed yet). Sender: the deal. Keyword arguments: db_session, from_stage, to_stage.
deal_stage_changed = _signals.signal("deal-stage-changed")
