from flask import Blueprint, jsonify
from sqlalchemy import text

from core.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/healthz")
def healthz():
    """Liveness and database reachability, for the load balancer."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.route("/ping")
def ping():
    """A constant, no database: the server's own ceiling, beside which bench/bench_rush.py puts bookings."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
