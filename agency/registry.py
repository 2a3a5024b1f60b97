"""The composition root: every domain's models, API blueprints, UI blueprints, job functions and
commands, as the lists the app factory, the migrations and the CLI iterate. This is the one
module allowed to import every domain; cross-domain reactions are wired here too.

Adding a domain: import its modules below and add them to the lists.
"""

from __future__ import annotations

# Models: importing them registers every table on `Base.metadata` (Alembic compares against it).
from agency.alerts import models as alerts_models
from agency.alerts import tasks as alerts_tasks
from agency.alerts.api import blp as alerts_api
from agency.alerts.cli import commands as alerts_commands
from agency.alerts.notifications import queue_invitation_email
from agency.alerts.service import alert_refreshed_creators
from agency.alerts.views import bp as alerts_ui
from agency.core import cli as core_cli
from agency.core.audit import models as audit_models
from agency.core.audit.api import blp as audit_api
from agency.core.audit.cli import commands as audit_commands
from agency.core.events import (
    creator_invited,
    deal_saved,
    deal_stage_changed,
    evaluation_inputs_changed,
    evaluations_refreshed,
)
from agency.core.jobs import models as jobs_models
from agency.core.jobs import tasks as jobs_tasks
from agency.core.jobs.api import blp as jobs_api
from agency.core.jobs.cli import commands as jobs_commands
from agency.core.users import models as users_models
from agency.core.users.api import auth_blp, users_blp
from agency.core.users.cli import commands as users_commands
from agency.currencies import models as currencies_models
from agency.currencies.api import blp as fx_rates_api
from agency.currencies.cli import commands as currencies_commands
from agency.currencies.views import bp as currencies_ui
from agency.deals import models as deals_models
from agency.deals.api import brands_blp, deals_blp
from agency.deals.views import bp as deals_ui
from agency.demo.cli import commands as demo_commands
from agency.metrics import models as metrics_models
from agency.metrics import tasks as metrics_tasks
from agency.metrics.api import blp as metrics_api
from agency.metrics.cli import commands as metrics_commands
from agency.metrics.views import bp as metrics_ui
from agency.money import chain_models as money_chain_models
from agency.money import models as money_models
from agency.money import tasks as money_tasks
from agency.money.agreements import sync_deal_commission
from agency.money.api import diversification_blp, revenue_blp
from agency.money.chain_api import blp as money_chain_api
from agency.money.chain_cli import commands as money_chain_commands
from agency.money.chain_views import bp as money_chain_ui
from agency.money.cli import commands as money_commands
from agency.money.invoices import invoice_deal_on_transition
from agency.money.revenue import record_deal_revenue
from agency.money.views import bp as money_ui
from agency.programmes import models as programmes_models
from agency.programmes import tasks as programmes_tasks
from agency.programmes.api import eligibility_blp, programs_blp
from agency.programmes.cli import commands as programmes_commands
from agency.programmes.freshness import request_refresh
from agency.programmes.views import bp as programmes_ui
from agency.roster import models as roster_models
from agency.roster.api import blp as creators_api
from agency.roster.views import bp as roster_ui
from agency.web import admin as web_admin
from agency.web import auth as web_auth
from agency.web import filters as web_filters
from agency.web import portal as web_portal
from agency.web import views as web_views

MODELS = [
    users_models,
    audit_models,
    jobs_models,
    roster_models,
    metrics_models,
    programmes_models,
    currencies_models,
    deals_models,
    money_models,
    money_chain_models,
    alerts_models,
]

# In this order in the OpenAPI document (each blueprint is a tag).
API_BLUEPRINTS = [
    auth_blp,
    users_blp,
    creators_api,
    metrics_api,
    programs_blp,
    eligibility_blp,
    brands_blp,
    deals_blp,
    revenue_blp,
    fx_rates_api,
    diversification_blp,
    money_chain_api,
    alerts_api,
    jobs_api,
    audit_api,
]

# The shell's blueprint (with its admin, sign-in and filter modules attached), the creator portal,
# and each domain's pages.
WEB_MODULES = [web_views, web_admin, web_auth, web_filters, web_portal]
UI_BLUEPRINTS = [
    web_views.bp,
    web_portal.bp,
    roster_ui,
    metrics_ui,
    programmes_ui,
    currencies_ui,
    deals_ui,
    money_ui,
    money_chain_ui,
    alerts_ui,
]

# Modules whose `@job` functions register themselves in agency.core.jobs.service.JOBS.
TASK_MODULES = [jobs_tasks, metrics_tasks, programmes_tasks, money_tasks, alerts_tasks]

CLI_COMMANDS = [
    *core_cli.commands,
    *users_commands,
    *audit_commands,
    *jobs_commands,
    *metrics_commands,
    *programmes_commands,
    *currencies_commands,
    *money_commands,
    *money_chain_commands,
    *alerts_commands,
    *demo_commands,
]

# A deal without its own commission takes its agreement's, on its contract date (money).
deal_saved.connect(sync_deal_commission)
deal_stage_changed.connect(sync_deal_commission)
# Paying a deal records its revenue (money reacts to deals, in the same transaction).
deal_stage_changed.connect(record_deal_revenue)
# Invoicing a deal issues its invoice and posts it to the ledger (money, same transaction).
deal_stage_changed.connect(invoice_deal_on_transition)
# A write to what an evaluation reads leaves its creators waiting for a refresh (programmes);
# once refreshed, their alerts are evaluated and immediate emails queued (alerts).
evaluation_inputs_changed.connect(request_refresh)
evaluations_refreshed.connect(alert_refreshed_creators)
# An invited creator gets their link by email (alerts' outbox, same transaction).
creator_invited.connect(queue_invitation_email)
