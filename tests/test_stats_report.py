"""The annual report's paragraphs: the rounding rule, French numbers, and the exact sentences for the demo
(the association's published figures) and for the edge cases (nothing, one, no gender given)."""

from __future__ import annotations

import pytest

from core.formatting import french_number, french_percent
from stats import report
from stats.report import headline_number, jou_text, pmi_text
from stats.result import Headcount

N = "\u202f"  # narrow no-break space: between thousands, before %, inside « »


def pmi(female: int, male: int, unspecified: int, interventions: int, volunteers: int) -> Headcount:
    counts = {"interventions": interventions, "volunteers": volunteers, "schools": 1}
    return Headcount(female=female, male=male, unspecified=unspecified, counts=counts)


def kind(code: str, n: int) -> Headcount:
    return Headcount(dims={"kind": code}, counts={"interventions": n})


def buses(n: int, pupils: int) -> Headcount:
    return Headcount(unspecified=pupils, counts={"transports": n, "schools": n})


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (0, "0"),
        (363, "363"),
        (999, "999"),
        (1_200, f"1{N}200"),  # a round figure already: exact
        (20_000, f"20{N}000"),
        (19_500, f"19{N}500"),
        (1_234, f"plus de 1{N}200"),  # two significant figures, rounded down
        (14_236, f"plus de 14{N}000"),  # the 2024 report's figure
        (19_501, f"plus de 19{N}000"),
        (123_456, f"plus de 120{N}000"),
        (19_870, f"près de 20{N}000"),  # within 2 % below the next round figure
        (1_290, f"près de 1{N}300"),
        (14_950, f"près de 15{N}000"),
    ],
)
def test_the_headline_rounding_rule(count, words):
    assert headline_number(count) == words


def test_french_numbers_and_shares():
    assert french_number(5142) == f"5{N}142"
    assert french_number(14_000) == "14\u202f000"
    assert french_number(1234.5) == f"1{N}234,5"
    assert french_number(None) == ""
    assert french_percent(0.385) == f"39{N}%"  # halves round up
    assert french_percent(0.3851, 1) == f"38,5{N}%"
    assert french_percent(None) == "—"  # no denominator
    assert Headcount(unspecified=12).female_share is None


def test_the_pmi_paragraph_in_the_report_style():
    kinds = [kind("class_talk", 216), kind("energy_game", 42), kind("forum", 24), kind("tnf_exhibition", 20),
             kind("orientation_fair", 14), kind("other", 8)]  # fmt: skip
    text = pmi_text(2024, pmi(5142, 8000, 1094, 324, 363), kinds, buses(24, 1200))
    assert text == (
        f"En 2024, 363 intervenants ont rencontré plus de 14{N}000 élèves, dont 5{N}142 filles, "
        "lors de 324 interventions. Parmi elles : 216 interventions en classe, "
        f"42 ateliers «{N}Jeu de l'Énergie{N}», 24 forums des métiers, "
        f"20 expositions «{N}Technologie Nom Féminin{N}», 14 salons de l'orientation et 8 autres interventions. "
        f"24 transports organisés par les Groupes Régionaux ont permis à 1{N}200 lycéens de visiter "
        "les campus d'Arts et Métiers."
    )


def test_a_year_without_anything():
    assert pmi_text(2031, Headcount(), [], Headcount()) == (
        "En 2031, aucune intervention n'a été enregistrée. Aucun transport vers les campus n'a été organisé."
    )
    empty = Headcount(counts={"sites": 0, "bookings": 0, "visitors": 0})
    assert jou_text(2019, empty, None) == (
        "Aucune usine n'a ouvert ses portes lors de l'édition 2019 des Journées Usines Ouvertes."
    )


def test_one_of_each_is_singular():
    text = pmi_text(2024, pmi(12, 13, 0, 1, 1), [kind("forum", 1)], buses(1, 40))
    assert text == (
        "En 2024, 1 intervenant a rencontré 25 élèves, dont 12 filles, lors d'une intervention. "
        "1 transport organisé par les Groupes Régionaux a permis à 40 lycéens de visiter un campus "
        "d'Arts et Métiers."
    )
    one = Headcount(female=1, counts={"sites": 1, "bookings": 1, "visitors": 1})
    assert jou_text(2027, one, one) == (
        "Lors de l'édition 2027 des Journées Usines Ouvertes, 1 usine a ouvert ses portes à 1 visiteur. "
        f"Les scolaires, accueillis le vendredi, représentaient 100{N}% des visiteurs. "
        f"Les filles et les femmes représentaient 100{N}% des visiteurs dont le genre était précisé."
    )


def test_no_gender_given_says_nothing_about_girls():
    text = pmi_text(2024, pmi(0, 0, 30, 1, 2), [kind("class_talk", 1)], Headcount())
    assert text.startswith("En 2024, 2 intervenants ont rencontré 30 élèves lors d'une intervention.")
    assert "fille" not in text
    # Boys given but no girl: that is data, and it is said.
    assert "dont aucune fille," in pmi_text(2024, pmi(0, 20, 5, 1, 1), [], Headcount())
    unknown = Headcount(unspecified=300, counts={"sites": 2, "bookings": 9, "visitors": 300})
    assert jou_text(2027, unknown, None) == (
        "Lors de l'édition 2027 des Journées Usines Ouvertes, 2 usines ont ouvert leurs portes à 300 visiteurs. "
        f"Les scolaires, accueillis le vendredi, représentaient 0{N}% des visiteurs."
    )


def test_an_edition_to_come_is_told_in_the_future():
    booked = Headcount(
        female=40, male=60, unspecified=1_134, counts={"sites": 12, "bookings": 50, "visitors": 1234}
    )
    assert jou_text(2027, booked, None, upcoming=True) == (
        "Pour l'édition 2027 des Journées Usines Ouvertes, 12 usines ouvriront leurs portes ; "
        f"1{N}234 visiteurs sont déjà inscrits."
    )
    assert jou_text(2027, Headcount(), None, upcoming=True) == (
        "Aucune usine n'est encore inscrite à l'édition 2027 des Journées Usines Ouvertes."
    )


# --- from the demo's records, through stats.queries ------------------------------------------------------


def test_the_demo_pmi_2024_paragraph(demo):
    assert report.pmi_paragraph(2024) == (
        f"En 2024, 363 intervenants ont rencontré plus de 14{N}000 élèves, dont 5{N}142 filles, "
        "lors de 324 interventions. Parmi elles : 216 interventions en classe, "
        f"42 ateliers «{N}Jeu de l'Énergie{N}», 24 forums des métiers, "
        f"20 expositions «{N}Technologie Nom Féminin{N}», 14 salons de l'orientation et 8 autres interventions. "
        f"24 transports organisés par les Groupes Régionaux ont permis à 1{N}200 lycéens de visiter "
        "les campus d'Arts et Métiers."
    )


def test_the_demo_jou_2025_paragraph(demo):
    # 41 % and 43 %: the demo's Friday share (pupils) and girls' share, drawn once from its seed.
    assert report.jou_paragraph(2025) == (
        f"Lors de l'édition 2025 des Journées Usines Ouvertes, 226 usines ont ouvert leurs portes à 20{N}000 "
        f"visiteurs. Les scolaires, accueillis le vendredi, représentaient 41{N}% des visiteurs. "
        f"Les filles et les femmes représentaient 43{N}% des visiteurs dont le genre était précisé."
    )


def test_a_demo_year_without_records(demo):
    assert report.pmi_paragraph(2031) == (
        "En 2031, aucune intervention n'a été enregistrée. Aucun transport vers les campus n'a été organisé."
    )
    assert report.jou_paragraph(2019) == (
        "Aucune usine n'a ouvert ses portes lors de l'édition 2019 des Journées Usines Ouvertes."
    )
