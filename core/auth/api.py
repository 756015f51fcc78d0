from flask import current_app

from core.api import ErrorSchema, api_blueprint
from core.auth.access import require
from core.auth.schemas import TokenRequestSchema, TokenSchema, UserSchema
from core.auth.services import authenticate, issue_api_token
from core.extensions import db

blp = api_blueprint("auth_api", __name__, "/auth", description="Jetons d'accès pour les clients de l'API")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Identifiants incorrects")
def create_token(payload: dict):
    """Échange e-mail et mot de passe contre un jeton « Bearer »."""
    user = authenticate(payload["email"], payload["password"])
    db.session.commit()  # a password rehash may have happened
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
