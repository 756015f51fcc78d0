from flask import Blueprint

bp = Blueprint("transports", __name__)
