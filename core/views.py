from flask import Blueprint, jsonify
from sqlalchemy import text

from core.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/healthz")
def healthz():
    """Liveness and database reachability, for the load balancer."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
