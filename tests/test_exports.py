"""CSV for French Excel: BOM, ';', and no typed text that runs as a formula."""

import csv
import io

from core.exports import excel_csv


def test_excel_csv_has_a_bom_semicolons_and_guards_formulas():
    text = excel_csv(["Nom", "Élèves"], [['=HYPERLINK("x")', 12], ["-2+3", None], ["Lycée Arago", 0]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows == [["Nom", "Élèves"], ['\'=HYPERLINK("x")', "12"], ["'-2+3", ""], ["Lycée Arago", "0"]]
