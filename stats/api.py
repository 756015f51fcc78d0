"""JSON API of the published figures: `GET /api/v1/stats/<programme>` (jou, pmi, transports).

Aggregated counts, no personal data: public, as the association publishes them — except the breakdown
and the filter by `volunteer`, which name people and are for staff (401 without a token, 403 for
other roles). Query string: the filters of stats.dimensions.FiltersSchema, `by` (one or two dimensions,
`by=region&by=gr` or `by=region,gr`) and `measure` (jou). Unknown parameters are refused (422), so that a
typo never silently answers national totals.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import jsonify
from marshmallow import RAISE, fields, post_load, pre_load, validate

from core.api import ErrorSchema, api_blueprint
from core.auth.access import require
from core.auth.permissions import Permission
from core.validation import BaseSchema
from stats.dimensions import ALL_DIMENSIONS, DIMENSIONS, PERSONAL, FiltersSchema, overlaps
from stats.queries import MEASURES, compute
from stats.records import records
from stats.result import StatsResult
from stats.surveys import DIMENSIONS as SURVEY_DIMENSIONS
from stats.surveys import survey_stats

blp = api_blueprint("stats_api", __name__, "/stats", description="Chiffres publiés : JOU, PMI, transports")


class ProgrammeStatsQuerySchema(FiltersSchema):
    by = fields.List(
        fields.String(validate=validate.Length(max=100)),
        load_default=list,
        metadata={
            "description": "Une ou deux dimensions : `by=region&by=gr` ou `by=region,gr`. "
            + " ; ".join(f"{p} : {', '.join(dims)}" for p, dims in DIMENSIONS.items())
        },
    )
    measure = fields.String(
        validate=validate.OneOf(MEASURES),
        metadata={
            "description": "attended (défaut : ce qui a eu lieu ; JOU : les réservations pour un créneau "
            "sans fréquentation encore) ; JOU : booked (réservations) ; transports : planned (prévus)"
        },  # fmt: skip
    )

    @pre_load
    def _staff_for_people(self, data: Mapping, **_kwargs) -> Mapping:
        """Before any value is read (a volunteer's name is looked up): only staff ask about people."""
        by = data.get("by") or []
        asked = {
            part.strip() for item in ([by] if isinstance(by, str) else by) for part in str(item).split(",")
        }
        if PERSONAL & (asked | set(data)):
            require(Permission.SEE_VOLUNTEERS)
        return data

    @post_load
    def _split_by(self, data: dict, **_kwargs) -> dict:
        data["by"] = [part.strip() for item in data["by"] for part in item.split(",") if part.strip()]
        return data


_COUNT = {"female": "Filles / femmes", "male": "Garçons / hommes", "unspecified": "Genre non précisé",
          "total": "female + male + unspecified"}  # fmt: skip
_DISTINCT = {
    "sites": "JOU : sites participants (distincts)",
    "bookings": "JOU : réservations confirmées",
    "visitors": "JOU : personnes (réservées ou venues selon measure) — égal à total",
    "interventions": "PMI : interventions",
    "volunteers": "PMI : intervenants distincts (auteur et co-intervenants)",
    "schools": "PMI, transports : établissements distincts",
    "transports": "Transports : cars (hors annulés)",
}


class HeadcountSchema(BaseSchema):
    """A row (its dimension values, then the counts) or the totals (counts only)."""

    class Meta:
        include = {
            **{dim: fields.Raw(allow_none=True, metadata={"description": "Valeur de la dimension"})
               for dim in ALL_DIMENSIONS},
            **{name: fields.Integer(metadata={"description": text}) for name, text in _COUNT.items()},
            "female_share": fields.Float(
                allow_none=True,
                metadata={"description": "Part des filles parmi les personnes au genre précisé ; null si aucune"},
            ),
            **{name: fields.Integer(metadata={"description": text}) for name, text in _DISTINCT.items()},
            "labels": fields.Dict(
                keys=fields.String(), values=fields.String(),
                metadata={"description": "Libellés des valeurs des dimensions (« 11 » → « Île-de-France »)"},
            ),
        }  # fmt: skip


class StatsAnswerSchema(BaseSchema):
    programme = fields.String()
    filters = fields.Dict(metadata={"description": "Les filtres appliqués, tels que compris"})
    by = fields.List(fields.String())
    measure = fields.String(metadata={"description": "JOU et transports : la mesure des chiffres"})
    rows = fields.List(fields.Nested(HeadcountSchema), metadata={"description": "Vide sans `by`"})
    overlapping = fields.Boolean(
        metadata={
            "description": "Une donnée dans plusieurs lignes (niveaux, intervenants) : ne pas les additionner"
        }
    )
    overlap_note = fields.String(allow_none=True)
    totals = fields.Nested(HeadcountSchema)


@blp.route("/<programme>", methods=["GET"])
@blp.arguments(ProgrammeStatsQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, StatsAnswerSchema)
@blp.alt_response(401, schema=ErrorSchema, description="`volunteer` sans jeton")
@blp.alt_response(403, schema=ErrorSchema, description="`volunteer` hors équipe Soce")
@blp.alt_response(
    422, schema=ErrorSchema, description="Programme, dimension ou filtre inconnu ou inapplicable"
)
def programme_stats(args: dict, programme: str):
    """Filles, garçons, non précisé, total, part des filles parmi les genres précisés, et les décomptes
    distincts du programme, par une ou deux dimensions.

    `programme` : `jou` (créneaux des sites participants), `pmi` (interventions), `transports` (cars vers
    les campus, hors annulés). Filtres : `year` (année civile ; JOU : édition), `edition`, `school_year`
    (2024-2025), `region` (code INSEE), `department`, `academie`, `gr`, `sector`, `kind`, `level`,
    `campus`, `day`, `audience`, `site`, `volunteer` — chacun seulement là où il a un sens (sinon 422).
    Une année sans données donne des zéros et `female_share` null. Sans `by`, `rows` est vide et
    `totals` donne tout ; les décomptes distincts des totaux portent sur l'ensemble filtré (un
    établissement de deux lignes compte une fois). `by=volunteer` et `volunteer=` : équipe Soce."""
    by = args.pop("by")
    measure = args.pop("measure", "attended")
    return jsonify(answer(compute(programme, by=by, filters=args, measure=measure)))


class RecordsAnswerSchema(BaseSchema):
    programme = fields.String()
    filters = fields.Dict()
    measure = fields.String()
    count = fields.Integer(
        metadata={"description": "Nombre d'enregistrements (interventions, cars, créneaux)"}
    )
    columns = fields.List(fields.String(), metadata={"description": "En-têtes des colonnes de `rows`"})
    rows = fields.List(fields.List(fields.Raw()), metadata={"description": "Un enregistrement par ligne"})
    totals = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "Leurs sommes : les chiffres"}
    )


@blp.route("/<programme>/records", methods=["GET"])
@blp.arguments(ProgrammeStatsQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, RecordsAnswerSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Sans jeton")
@blp.alt_response(403, schema=ErrorSchema, description="Hors équipe Soce")
@blp.alt_response(422, schema=ErrorSchema, description="Programme, filtre ou mesure inconnu ou inapplicable")
def programme_records(args: dict, programme: str):
    """Les enregistrements derrière les chiffres (équipe Soce) : les interventions, les cars ou les créneaux
    que `GET /stats/<programme>` compte avec les mêmes filtres et la même mesure, chacun avec ses effectifs ;
    leurs sommes (`totals`) sont les totaux publiés. `by` est ignoré."""
    require(Permission.SEE_STATISTICS)
    args.pop("by")
    measure = args.pop("measure", "attended")
    found = records(programme, args, measure)
    return {
        "programme": found.programme,
        "filters": found.filters,
        "measure": found.measure,
        "count": found.count,
        "columns": found.header,
        "rows": found.rows,
        "totals": found.totals,
    }


class SurveyStatsQuerySchema(BaseSchema):
    edition = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    by = fields.String(load_default=None, validate=validate.OneOf(list(SURVEY_DIMENSIONS)))


class SurveyFiguresSchema(BaseSchema):
    edition = fields.Integer()
    by = fields.String(allow_none=True)
    min_respondents = fields.Integer(metadata={"description": "Sous ce nombre de réponses, rien n'est donné"})
    rows = fields.List(
        fields.Dict(), metadata={"description": "Par valeur de `by` : réponses, moyennes, parts"}
    )
    totals = fields.Dict(metadata={"description": "responses, suppressed, satisfaction_mean, *_agree"})


@blp.route("/surveys", methods=["GET"])
@blp.arguments(SurveyStatsQuerySchema(), location="query", unknown=RAISE)
@blp.response(200, SurveyFiguresSchema)
@blp.alt_response(422, schema=ErrorSchema, description="Édition ou ventilation invalide")
def survey_figures(args: dict):
    """L'enquête après la visite : réponses, satisfaction moyenne (1-5) et part d'accord (4 ou 5) avec
    chaque affirmation (`changed_view_agree`, `could_work_before_agree`, `could_work_now_agree`), au total
    et par `by` (region, department, sector, site, respondent_gender, age_band). Aucun chiffre n'est donné
    avec moins de 5 réponses derrière lui : la ligne dit alors `suppressed`."""
    return jsonify(survey_stats(args["edition"], args["by"]))


def answer(result: StatsResult) -> dict:
    body = result.to_dict()
    for row, out in zip(result.rows, body["rows"], strict=True):
        out["labels"] = row.labels
    # A record in several rows (an intervention of two levels): the rows add up to more than the totals,
    # which count each record once. Said, so that nobody sums the rows.
    why = overlaps(result.programme, result.by)
    body["overlapping"] = bool(why)
    body["overlap_note"] = (
        f"Les lignes se recouvrent : {why} ; les totaux comptent chacun une fois." if why else None
    )
    return body


blueprints: tuple = (blp,)
