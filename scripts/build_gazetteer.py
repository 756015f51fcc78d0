"""Build var/gazetteer.csv (placeholder until the geography work lands)."""

import argparse
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--output", type=Path, required=True)
args = parser.parse_args()
args.output.parent.mkdir(parents=True, exist_ok=True)
args.output.write_text("insee,nom,codes_postaux,dep,reg,lat,lon,precision\n", encoding="utf-8")
