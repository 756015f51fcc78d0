"""The annual report's paragraphs, written in French from the data, in the association's own style:

    « 363 intervenants ont rencontré plus de 14 000 élèves, dont 5 142 filles, lors de 324 interventions »
    « 24 transports organisés par les Groupes Régionaux ont permis à 1 200 lycéens de visiter les campus »
    « 226 usines ont ouvert leurs portes à 20 000 visiteurs »

Only the headline audience (pupils met, lycéens carried, visitors) is ever rounded, by `headline_number`;
every other figure (volunteers, girls, interventions, factories) is exact.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from core.extensions import db
from core.formatting import count_of, french_number, french_percent, paris_today
from stats.result import Headcount

# Within this share below the next round figure, a count is "près de" it (19 870 → "près de 20 000").
NEAR = 0.02
NNBSP = "\u202f"  # inside « guillemets », as in the figures: a narrow no-break space


def headline_number(n: int) -> str:
    """A headline count the way the report writes it. The rule:

    - below 1 000, or already a round figure (a multiple of 100): the exact number — 363, 1 200, 20 000;
    - else rounded to two significant figures: down, with "plus de" — 14 236 → "plus de 14 000",
      1 234 → "plus de 1 200" — unless the count is within 2 % below the next round figure, then
      "près de" it — 19 870 → "près de 20 000", 1 290 → "près de 1 300".
    So "plus de" is only written when the data is above the figure, "près de" only when it is just under.
    """
    if n < 1000 or n % 100 == 0:
        return french_number(n)
    step = 10 ** (len(str(n)) - 2)
    below = n // step * step
    above = below + step
    if above - n <= n * NEAR:
        return f"près de {french_number(above)}"
    return f"plus de {french_number(below)}"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 fille", "5 142 filles": core.formatting.count_of, the plural an "s" unless given."""
    return count_of(n, singular, plural_form or singular + "s")


def _verb(n: int, singular: str, plural_form: str) -> str:
    return singular if n <= 1 else plural_form


# Interventions by kind as the report lists them: (singular, plural).
KIND_NOUNS = {
    "class_talk": ("intervention en classe", "interventions en classe"),
    "forum": ("forum des métiers", "forums des métiers"),
    "orientation_fair": ("salon de l'orientation", "salons de l'orientation"),
    "tnf_exhibition": (
        f"exposition «{NNBSP}Technologie Nom Féminin{NNBSP}»",
        f"expositions «{NNBSP}Technologie Nom Féminin{NNBSP}»",
    ),
    "energy_game": (
        f"atelier «{NNBSP}Jeu de l'Énergie{NNBSP}»",
        f"ateliers «{NNBSP}Jeu de l'Énergie{NNBSP}»",
    ),
    "other": ("autre intervention", "autres interventions"),
}
KIND_ORDER = tuple(KIND_NOUNS)


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


def _kinds_sentence(kinds: Sequence[Headcount]) -> str:
    """ "Parmi elles : 216 interventions en classe, 42 ateliers … et 8 autres interventions." Most first."""
    counted = []
    for row in kinds:
        n = row.counts.get("interventions", 0)
        kind = str(row.dims.get("kind"))
        if n:
            singular, many = KIND_NOUNS.get(kind, (row.labels.get("kind", kind).lower(),) * 2)
            counted.append(
                (-n, KIND_ORDER.index(kind) if kind in KIND_ORDER else 99, plural(n, singular, many))
            )
    if len(counted) < 2:  # one kind only: the main sentence already says it all
        return ""
    return "Parmi elles : " + _join([text for *_, text in sorted(counted)]) + "."


def pmi_text(
    year: int, pmi: Headcount, kinds: Sequence[Headcount], transports: Headcount, planned: int = 0
) -> str:
    """The PMI paragraph of a calendar year, from the year's totals, its totals by kind of intervention and
    the totals of the campus transports that went (`planned`: how many more are planned, not counted)."""
    sentences = [_pmi_sentence(year, pmi)]
    if pmi.counts.get("interventions", 0):
        sentences.append(_kinds_sentence(kinds))
    sentences.append(_transports_sentence(transports))
    if planned:
        sentences.append(
            f"{plural(planned, 'autre transport')} {_verb(planned, 'est prévu', 'sont prévus')} : "
            f"{_verb(planned, 'il sera compté', 'ils seront comptés')} une fois les effectifs relevés à bord."
        )
    return " ".join(s for s in sentences if s)


def _pmi_sentence(year: int, pmi: Headcount) -> str:
    interventions = pmi.counts.get("interventions", 0)
    if not interventions:
        return f"En {year}, aucune intervention n'a été enregistrée."
    volunteers = pmi.counts.get("volunteers", 0)
    pupils = pmi.total
    who = f"{plural(volunteers, 'intervenant')} {_verb(volunteers, 'a', 'ont')} rencontré"
    met = f"{headline_number(pupils)} {'élève' if pupils <= 1 else 'élèves'}"
    if pmi.female_share is not None:  # some genders given: the girls among them, exactly
        met += ", dont " + (plural(pmi.female, "fille") if pmi.female else "aucune fille") + ","
    during = (
        "lors d'une intervention"
        if interventions == 1
        else f"lors de {plural(interventions, 'intervention')}"
    )
    return f"En {year}, {who} {met} {during}."


def _transports_sentence(transports: Headcount) -> str:
    n = transports.counts.get("transports", 0)
    if not n:
        return "Aucun transport vers les campus n'a été organisé."
    pupils = transports.total
    return (
        f"{plural(n, 'transport')} {_verb(n, 'organisé', 'organisés')} par les Groupes Régionaux "
        f"{_verb(n, 'a', 'ont')} permis à {headline_number(pupils)} {'lycéen' if pupils <= 1 else 'lycéens'} "
        f"de visiter {'un campus' if n == 1 else 'les campus'} d'Arts et Métiers."
    )


def jou_text(year: int, jou: Headcount, schools: Headcount | None, *, upcoming: bool = False) -> str:
    """The JOU paragraph of an edition, from its totals and the totals of its Friday (school) slots;
    an edition still to come is told in the future, with its bookings."""
    sites = jou.counts.get("sites", 0)
    visitors = jou.total
    if upcoming:
        if not sites:
            return f"Aucune usine n'est encore inscrite à l'édition {year} des Journées Usines Ouvertes."
        will_open = _verb(sites, "ouvrira ses", "ouvriront leurs")
        booked = (
            f" ; {plural(visitors, 'visiteur')} {_verb(visitors, 'est déjà inscrit', 'sont déjà inscrits')}"
            if visitors
            else ""
        )
        return f"Pour l'édition {year} des Journées Usines Ouvertes, {plural(sites, 'usine')} {will_open} portes{booked}."
    if not sites:
        return f"Aucune usine n'a ouvert ses portes lors de l'édition {year} des Journées Usines Ouvertes."
    opened = (
        f"Lors de l'édition {year} des Journées Usines Ouvertes, {plural(sites, 'usine')} "
        f"{_verb(sites, 'a ouvert ses', 'ont ouvert leurs')} portes"
    )
    if not visitors:
        return opened + " ; aucune fréquentation n'a encore été confirmée."
    sentences = [f"{opened} à {headline_number(visitors)} {'visiteur' if visitors <= 1 else 'visiteurs'}."]
    friday = schools.total if schools else 0
    sentences.append(
        f"Les scolaires, accueillis le vendredi, représentaient {french_percent(friday / visitors)} des visiteurs."
    )
    if jou.female_share is not None:  # nobody's gender known: no share to give
        sentences.append(
            f"Les filles et les femmes représentaient {french_percent(jou.female_share)} "
            "des visiteurs dont le genre était précisé."
        )
    return " ".join(sentences)


def pmi_paragraph(year: int) -> str:
    from stats.queries import compute

    pmi = compute("pmi", filters={"year": year})
    kinds = compute("pmi", by=["kind"], filters={"year": year})
    transports = compute("transports", filters={"year": year})
    planned = compute("transports", filters={"year": year}, measure="planned")
    later = planned.totals.counts.get("transports", 0) - transports.totals.counts.get("transports", 0)
    return pmi_text(year, pmi.totals, kinds.rows, transports.totals, max(later, 0))


def jou_paragraph(year: int, measure: str = "attended") -> str:
    from stats.queries import compute

    by_audience = compute("jou", by=["audience"], filters={"year": year}, measure=measure)
    schools = next((row for row in by_audience.rows if str(row.dims.get("audience")) == "schools"), None)
    return jou_text(year, by_audience.totals, schools, upcoming=upcoming(year))


def upcoming(year: int) -> bool:
    """An edition whose Saturday is still to come (or a later year without its edition yet)."""
    from jou.models import Edition

    saturday = db.session.scalar(select(Edition.saturday).where(Edition.year == year))
    today = paris_today()
    return year > today.year if saturday is None else saturday >= today
