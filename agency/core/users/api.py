"""/api/v1/auth (bearer tokens) and /api/v1/users (who am I; the staff list; my signed-in
devices and password; an admin's password reset)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from agency.core.audit.service import Actor, record_audit, snapshot
from agency.core.auth import (
    authenticate_request,
    current_actor,
    current_login_session,
    current_user,
    for_creators,
    roles_required,
)
from agency.core.extensions import get_session, limiter
from agency.core.pagination import paginated
from agency.core.users.models import Role, User
from agency.core.users.schemas import (
    PasswordChangedSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    SessionsEndedSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
    UserSessionSchema,
)
from agency.core.users.service import (
    active_sessions,
    authenticate,
    change_password,
    create_user,
    end_sessions,
    issue_token,
    reset_password,
    revoke_token,
)

auth_blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Bearer tokens for the API.")


@auth_blp.before_request
def _authenticate_except_login():
    if request.endpoint != "auth.Tokens":
        authenticate_request()


def _login_limit() -> str:
    return current_app.config["AGENCY"].login_rate_limit


@auth_blp.route("/tokens")
class Tokens(MethodView):
    decorators = [limiter.limit(_login_limit, methods=["POST"])]

    @auth_blp.arguments(TokenRequestSchema)
    @auth_blp.response(201, TokenSchema)
    @auth_blp.doc(security=[])
    def post(self, data):
        """Exchange email and password for a bearer token"""
        session = get_session()
        user = authenticate(db_session=session, email=data["email"], password=data["password"])
        if user is None:
            abort(401, description="Wrong email or password.")
        hours = data.get("expires_in_hours") or current_app.config["AGENCY"].token_ttl_hours
        token, record = issue_token(db_session=session, user=user, ttl=timedelta(hours=hours))
        record_audit(
            db_session=session,
            actor=Actor(user=user, request_id=g.get("request_id")),
            action="token.create",
            entity_type="api_token",
            entity_id=record.id,
            after={"prefix": record.prefix, "expires_at": record.expires_at.isoformat()},
        )
        return {
            "token": token,
            "token_type": "Bearer",
            "expires_at": record.expires_at,
            "user_id": user.id,
            "role": user.role.value,
        }


@auth_blp.route("/tokens/current")
class CurrentToken(MethodView):
    @for_creators
    @auth_blp.response(204)
    def delete(self):
        """Revoke the token used for this request"""
        record = g.get("current_token")
        if record is None:
            abort(400, description="This request was not made with a bearer token.")
        session = get_session()
        revoke_token(db_session=session, record=record)
        record_audit(
            db_session=session,
            actor=Actor(user=g.current_user, request_id=g.get("request_id")),
            action="token.revoke",
            entity_type="api_token",
            entity_id=record.id,
            after={"prefix": record.prefix},
        )


users_blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Agency staff.")
users_blp.before_request(authenticate_request)


@users_blp.route("/me")
class Me(MethodView):
    @for_creators
    @users_blp.response(200, UserSchema)
    def get(self):
        """The authenticated user"""
        return current_user()


@users_blp.route("")
class Users(MethodView):
    @paginated(users_blp, UserSchema(many=True))
    def get(self, pagination_parameters):
        """List staff (managers need it to see who manages whom)"""
        return select(User).order_by(User.email)

    @roles_required(Role.admin)
    @users_blp.arguments(UserSchema)
    @users_blp.response(201, UserSchema)
    def post(self, data):
        """Create a staff account (admins)"""
        session = get_session()
        user = create_user(db_session=session, **data)
        record_audit(
            db_session=session,
            actor=current_actor(),
            action="user.create",
            entity_type="user",
            entity_id=user.id,
            after=snapshot(user),
        )
        return user


def _current_session_id() -> int | None:
    """The UI session a cookie-authenticated call comes from (None with a bearer token)."""
    if g.get("current_token") is not None:
        return None
    record = current_login_session()
    return record.id if record is not None else None


def _listed_sessions(user: User) -> list[dict]:
    """The user's signed-in devices, the one of this request (if theirs) marked `current`."""
    current_id = _current_session_id()
    sessions = active_sessions(db_session=get_session(), user=user)
    shown = [name for name in UserSessionSchema().fields if name != "current"]
    return [{**{name: getattr(s, name) for name in shown}, "current": s.id == current_id} for s in sessions]


@users_blp.route("/me/sessions")
class MySessions(MethodView):
    @for_creators
    @users_blp.response(200, UserSessionSchema(many=True))
    def get(self):
        """My signed-in devices (UI sessions), the one of this request marked `current`"""
        return _listed_sessions(current_user())

    @for_creators
    @users_blp.response(200, SessionsEndedSchema)
    def delete(self):
        """Sign out everywhere else: every UI session but this request's own"""
        ended = end_sessions(
            db_session=get_session(), actor=current_actor(), user=current_user(), keep=_current_session_id()
        )
        return {"sessions_ended": ended}


@users_blp.route("/me/sessions/<int:session_id>")
class MySession(MethodView):
    @for_creators
    @users_blp.response(204)
    def delete(self, session_id):
        """Sign one of my devices out (its cookies, remember-me included, stop working)"""
        if end_sessions(db_session=get_session(), actor=current_actor(), user=current_user(), only=session_id) == 0:
            abort(404, description="No such signed-in device.")


@users_blp.route("/me/password")
class MyPassword(MethodView):
    decorators = [limiter.limit(_login_limit, methods=["PUT"])]

    @for_creators
    @users_blp.arguments(PasswordChangeSchema)
    @users_blp.response(200, PasswordChangedSchema)
    def put(self, data):
        """Change my password (the current one is required): every other UI session ends; API
        tokens, the one of this request included, keep working"""
        session = get_session()
        ended = change_password(
            db_session=session,
            user=current_user(),
            current_password=data["current_password"],
            new_password=data["new_password"],
            current_session_id=_current_session_id(),
        )
        record_audit(
            db_session=session,
            actor=current_actor(),
            action="user.password_change",
            entity_type="user",
            entity_id=current_user().id,
            after={"sessions_ended": ended},
        )
        return {"sessions_ended": ended, "tokens_revoked": 0}


@users_blp.route("/<int:user_id>/sessions")
class UserSessions(MethodView):
    @roles_required(Role.admin)
    @users_blp.response(200, UserSessionSchema(many=True))
    def get(self, user_id):
        """A user's signed-in devices (admins): where and since when the account is in use"""
        user = get_session().get(User, user_id) or abort(404, description="No such user.")
        return _listed_sessions(user)

    @roles_required(Role.admin)
    @users_blp.response(200, SessionsEndedSchema)
    def delete(self, user_id):
        """Sign a user out of every device (admins), e.g. after a lost laptop: their password and
        API tokens are unchanged (a password reset ends both)"""
        session = get_session()
        user = session.get(User, user_id) or abort(404, description="No such user.")
        keep = _current_session_id() if user.id == current_user().id else None
        ended = end_sessions(db_session=session, actor=current_actor(), user=user, keep=keep)
        return {"sessions_ended": ended}


@users_blp.route("/<int:user_id>/password")
class UserPassword(MethodView):
    @roles_required(Role.admin)
    @users_blp.arguments(PasswordResetSchema)
    @users_blp.response(200, PasswordChangedSchema)
    def put(self, data, user_id):
        """Reset a user's password (admins): every UI session and every API token of that user ends"""
        session = get_session()
        user = session.get(User, user_id) or abort(404, description="No such user.")
        sessions_ended, tokens_revoked = reset_password(
            db_session=session, user=user, new_password=data["new_password"]
        )
        record_audit(
            db_session=session,
            actor=current_actor(),
            action="user.password_reset",
            entity_type="user",
            entity_id=user.id,
            after={"sessions_ended": sessions_ended, "tokens_revoked": tokens_revoked},
        )
        return {"sessions_ended": sessions_ended, "tokens_revoked": tokens_revoked}
