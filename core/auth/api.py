"""`POST /api/v1/auth/token`: bearer tokens for API clients.

A token is signed (itsdangerous), not stored: it names the account and its token_version and lasts
API_TOKEN_MAX_AGE (24 h by default). It dies with a password change or reset and with a deactivation (each
bumps token_version), not with a sign-out on the pages: the API never reads the session cookie, and a
program's token is not a browser's sign-in. One token alone cannot be revoked; after a leak, change the
password (every token of the account dies, and every other session with it).
"""

from flask import current_app

from core.api import ErrorSchema, api_blueprint
from core.auth.access import require
from core.auth.schemas import TokenRequestSchema, TokenSchema, UserSchema
from core.auth.services import authenticate, issue_api_token

blp = api_blueprint("auth_api", __name__, "/auth", description="Jetons d'accès pour les clients de l'API")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Identifiants incorrects")
def create_token(payload: dict):
    """Échange e-mail et mot de passe contre un jeton « Bearer »."""
    user = authenticate(payload["email"], payload["password"])  # a rehash is committed with the request
    return {
        "token": issue_api_token(user),
        "token_type": "Bearer",
        "expires_in": current_app.config["API_TOKEN_MAX_AGE"],
        "user": user,
    }


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Jeton absent, invalide ou expiré")
def me():
    """Le compte du jeton présenté."""
    return require()
