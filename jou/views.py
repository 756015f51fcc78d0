"""JOU pages: public home, site list and page; factory registration; staff moderation."""

from flask import Blueprint, render_template

bp = Blueprint("jou", __name__)


@bp.route("/")
def home():
    return render_template("jou/home.html")


@bp.route("/usines")
def site_list():
    return render_template("jou/home.html")


@bp.route("/mes-sites")
def my_sites():
    return render_template("jou/home.html")


@bp.route("/moderation")
def moderation():
    return render_template("jou/home.html")
