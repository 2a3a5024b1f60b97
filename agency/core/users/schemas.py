"""What the auth and users endpoints read and write."""

from __future__ import annotations

import zoneinfo

from marshmallow import Schema, ValidationError, fields, validate, validates

from agency.core.users.models import Role


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(required=True)
    full_name = fields.String(validate=validate.Length(max=200), load_default="")
    role = fields.Enum(Role, by_value=True, required=True)
    timezone = fields.String(load_default="UTC")
    is_active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)
    password = fields.String(load_only=True, required=True, validate=validate.Length(max=256))
    creator_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "For a creator account: the creator it is."}
    )

    @validates("role")
    def _staff_role(self, value, **_kwargs):
        if value is Role.creator:
            raise ValidationError("Creator accounts are opened by invitation from the creator's manager.")

    @validates("timezone")
    def _known_zone(self, value, **_kwargs):
        if value not in zoneinfo.available_timezones():
            raise ValidationError(f"Unknown time zone '{value}' (use an IANA name such as Europe/Paris).")


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    expires_in_hours = fields.Integer(
        validate=validate.Range(min=1, max=24 * 365),
        metadata={"description": "Lifetime of the token; defaults to TOKEN_TTL_HOURS."},
    )


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "Shown once; store it safely."})
    token_type = fields.String(dump_default="Bearer")
    expires_at = fields.DateTime()
    user_id = fields.Integer()
    role = fields.String()


class UserSessionSchema(Schema):
    """A signed-in device (a browser session of the UI); its secret is never shown."""

    id = fields.Integer()
    created_at = fields.DateTime()
    last_seen_at = fields.DateTime()
    expires_at = fields.DateTime()
    remember = fields.Boolean(metadata={"description": "Signed in with 'remember me'."})
    user_agent = fields.String()
    ip_address = fields.String()
    current = fields.Boolean(metadata={"description": "The session this request was made with."})


class SessionsEndedSchema(Schema):
    sessions_ended = fields.Integer()


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=256),
        metadata={
            "description": "The password policy applies (12 characters or more, letters with digits or symbols)."
        },
    )


class PasswordResetSchema(Schema):
    new_password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=256),
        metadata={"description": "The password policy applies."},
    )


class PasswordChangedSchema(Schema):
    sessions_ended = fields.Integer(metadata={"description": "Signed-in devices that were signed out."})
    tokens_revoked = fields.Integer(metadata={"description": "API tokens revoked (an admin's reset revokes them all)."})
