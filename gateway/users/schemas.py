"""Request and response schemas of user accounts and password changes."""

from marshmallow import Schema, fields, validate

from common.auth import ROLES
from common.bounds import name_text, page_limit, text
from common.paging import PagedQuerySchema
from gateway.patients.schemas import RecordId

USERNAME_PATTERN = r"^[a-z0-9._-]{3,64}$"


def password_field(**kwargs) -> fields.String:
    """A password as typed: 1..200 characters, never given back."""
    return fields.String(validate=validate.Length(1, 200), load_only=True, **kwargs)


class UserSchema(Schema):
    id = RecordId(dump_only=True)
    username = text(64, 3, pattern=USERNAME_PATTERN, required=True,
                    metadata={"description": "3 to 64 lower-case letters, digits, '.', '_' or '-'"})
    full_name = name_text(200, 2, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    active = fields.Boolean(dump_only=True)
    must_change_password = fields.Boolean(dump_only=True)
    password_changed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)


class NewUserSchema(UserSchema):
    temporary_password = password_field(metadata={
        "description": "the first password (the user must change it at sign-in); one is made when absent"})


class UserChangesSchema(Schema):
    full_name = name_text(200, 2)
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean(metadata={"description": "false: the user can no longer sign in"})


class PasswordResetSchema(Schema):
    temporary_password = password_field(metadata={"description": "one is made when absent"})


class IssuedPasswordSchema(Schema):
    """A user with the temporary password an admin hands over (shown once, never stored in clear)."""

    user = fields.Nested(UserSchema)
    temporary_password = fields.String()


class UserQuerySchema(PagedQuerySchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    q = text(64, 1, metadata={"description": "part of the username or the full name"})
    limit = page_limit(100)


class PasswordChangeSchema(Schema):
    current_password = password_field(required=True)
    new_password = password_field(required=True)
