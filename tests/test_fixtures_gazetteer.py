"""`fixtures load` on a database without communes."""

import pytest
from sqlalchemy import delete

from core.geography.models import Commune, CommunePostcode
from fixtures.loader import GazetteerMissing, ensure_gazetteer


def test_without_gazetteer_the_load_says_how_to_build_it(app, db_session, monkeypatch, tmp_path):
    db_session.execute(delete(CommunePostcode))
    db_session.execute(delete(Commune))
    monkeypatch.setitem(app.config, "GAZETTEER_FILE", str(tmp_path / "absent.csv"))
    with pytest.raises(GazetteerMissing, match="make gazetteer"):
        ensure_gazetteer()
    result = app.test_cli_runner().invoke(args=["fixtures", "load"])
    assert result.exit_code != 0
    assert "make gazetteer" in result.output


def test_an_empty_commune_table_is_filled_from_the_configured_gazetteer(
    app, db_session, monkeypatch, tmp_path
):
    db_session.execute(delete(CommunePostcode))
    db_session.execute(delete(Commune))
    gazetteer = tmp_path / "gazetteer.csv"
    gazetteer.write_text(
        "insee,nom,codes_postaux,dep,reg,lat,lon\n71153,Le Creusot,71200,71,27,46.80714,4.41632\n",
        encoding="utf-8",
    )
    monkeypatch.setitem(app.config, "GAZETTEER_FILE", str(gazetteer))
    ensure_gazetteer()
    assert db_session.get(Commune, "71153").name == "Le Creusot"
