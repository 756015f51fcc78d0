"""JSON API of JOU: editions and sites."""

from sqlalchemy import select

from core.api import api_blueprint
from core.extensions import db
from jou.models import Edition
from jou.schemas import EditionSchema

editions_blp = api_blueprint("editions_api", __name__, "/editions", description="Éditions des Journées Usines Ouvertes")


@editions_blp.route("")
@editions_blp.response(200, EditionSchema(many=True))
def list_editions():
    """Toutes les éditions, de la plus récente à la plus ancienne."""
    return db.session.scalars(select(Edition).order_by(Edition.year.desc())).all()


blueprints = (editions_blp,)
