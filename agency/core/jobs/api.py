"""/api/v1/jobs: background job status, scheduled runs, retries."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select

from agency.core.auth import authenticate_request, current_actor, roles_required
from agency.core.errors import NotFound
from agency.core.extensions import get_session
from agency.core.jobs.models import JobRecord, JobStatus, ScheduledRun
from agency.core.jobs.service import retry_job
from agency.core.pagination import paginated
from agency.core.users.models import Role

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Background jobs and scheduled runs.")
blp.before_request(authenticate_request)


class JobSchema(Schema):
    id = fields.String()
    name = fields.String()
    queue = fields.String()
    status = fields.Enum(JobStatus, by_value=True)
    progress = fields.Function(lambda j: {"done": j.progress_done, "total": j.progress_total})
    attempts = fields.Integer()
    result = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    enqueued_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)


class RunSchema(Schema):
    id = fields.Integer()
    job_name = fields.String()
    period = fields.String()
    status = fields.Function(lambda r: r.status.value)
    job_id = fields.String(allow_none=True)
    rows_changed = fields.Integer(allow_none=True)
    outcome = fields.String()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)


@blp.route("/runs")
class Runs(MethodView):
    @paginated(blp, RunSchema(many=True))
    def get(self, pagination_parameters):
        """Recent scheduled runs with duration, rows changed and outcome"""
        return select(ScheduledRun).order_by(ScheduledRun.started_at.desc(), ScheduledRun.id.desc())


@blp.route("/<string:job_id>")
class JobById(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """A job's status, progress, and result or error"""
        record = get_session().get(JobRecord, job_id)
        if record is None:
            raise NotFound(f"Job {job_id} not found.")
        return record


@blp.route("/<string:job_id>/retry")
class Retry(MethodView):
    @roles_required(Role.admin)
    @blp.response(202, JobSchema)
    def post(self, job_id):
        """Run a failed job again (admins)"""
        session = get_session()
        record = session.get(JobRecord, job_id)
        if record is None:
            raise NotFound(f"Job {job_id} not found.")
        return retry_job(session, current_app.config["AGENCY"], record, current_actor())
