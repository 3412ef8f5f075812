"""User accounts (admin only) and one's own password change (any signed-in user)."""

from flask import request
from flask_smorest import Blueprint

from common.auth import current_principal, require_person, require_roles
from gateway import services as accounts
from gateway.audit import audited
from gateway.schemas import TokenResponseSchema
from gateway.users import services
from gateway.users.schemas import (
    IssuedPasswordSchema,
    NewUserSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    UserChangesSchema,
    UserQuerySchema,
    UserSchema,
)

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="User accounts and passwords")


@blp.route("/users")
@require_roles("admin")
@blp.arguments(UserQuerySchema(), location="query")
@blp.response(200, UserSchema(many=True))
def list_users(query):
    """List the accounts by username; `role`, `active` and `q` (part of a name) narrow it."""
    return services.list_users(query)


@blp.route("/users", methods=["POST"])
@require_roles("admin")
@audited
@blp.arguments(NewUserSchema())
@blp.response(201, IssuedPasswordSchema)
def create_user(fields):
    """Create an account; its temporary password (given, or made and answered once) must be changed at sign-in."""
    return services.create_account(fields)


@blp.route("/users/<int:user_id>")
@require_roles("admin")
@blp.response(200, UserSchema)
def get_user(user_id):
    """Show one account."""
    return services.get_user(user_id)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@require_roles("admin")
@audited
@blp.arguments(UserChangesSchema())
@blp.response(200, UserSchema)
def change_user(changes, user_id):
    """Rename an account, change its role, or disable (`active: false`) / enable it (not one's own)."""
    return services.change_account(user_id, changes)


@blp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@require_roles("admin")
@audited
@blp.arguments(PasswordResetSchema())
@blp.response(200, IssuedPasswordSchema)
def reset_password(fields, user_id):
    """Give an account a temporary password (answered once), to be changed at its next sign-in."""
    return services.reset_password(user_id, fields)


@blp.route("/auth/password", methods=["POST"])
@require_person  # audited after the answer like a sign-in: a transaction around it would undo a counted failure
@blp.arguments(PasswordChangeSchema())
@blp.response(200, TokenResponseSchema)
def change_password(fields):
    """Change one's own password (the only call a token marked `must_change_password` may make); answers a new
    token that opens everything the role may do."""
    return accounts.change_own_password(current_principal().subject, fields["current_password"], fields["new_password"],
                                        request.remote_addr)
