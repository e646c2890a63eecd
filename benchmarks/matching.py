"""Employer matching benchmark: the needs of each posting and how the sample catalog covers them.

The catalog is the 12 sample credentials (data/catalog), tagged the way a designer would with
the defaults: every outcome's suggestions (ESCO and Skills for Success, the credential title as
context), the confident ones accepted. The postings are the 32 sample postings (data/postings)
and three written for this benchmark (benchmarks/data/postings: nursing, trucking, retail). Each
posting names the credentials of its own domain (below); every other credential is
*unrelated*, and the share of a posting's needs an unrelated credential covers is the figure to
keep low (target: at most 5%), while the posting's own-domain credential should cover much.

    python benchmarks/matching.py [--out benchmarks/results]

Prints a table and writes matching.json and matching.md under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

from competencymap._common.config import load_settings
from competencymap.catalog import Catalog, read_credentials_file
from competencymap.engine import CompetencyMap
from competencymap.workflows.employer_match import catalog_coverage, match_posting
from competencymap.workflows.tagging import suggest_tags

FRAMEWORKS = ["esco", "sfs"]
# Posting title -> titles of the sample credentials of its own domain (absent: none of them).
DOMAIN = {
    "Junior Data Analyst": ["Data Analytics with Python"],
    "Business Intelligence Analyst": ["Data Analytics with Python"],
    "Data and Reporting Coordinator": ["Data Analytics with Python"],
    "Cloud Support Associate": ["Cloud Computing Fundamentals"],
    "Junior Cloud Engineer": ["Cloud Computing Fundamentals"],
    "IT Security Coordinator": ["Cybersecurity Essentials for Small Organizations"],
    "Security Operations Analyst (Tier 1)": ["Cybersecurity Essentials for Small Organizations"],
    "Project Coordinator": ["Project Management Fundamentals"],
    "Agile Project Manager": ["Project Management Fundamentals"],
    "Full-Charge Bookkeeper": ["Bookkeeping Essentials"],
    "Accounting Clerk": ["Bookkeeping Essentials"],
    "Health and Safety Coordinator": ["Workplace Health and Safety"],
    "Site Safety Officer": ["Workplace Health and Safety", "Energy-Efficient and Sustainable Construction"],
    "Digital Marketing Coordinator": ["Digital Marketing Foundations"],
    "Social Media and Content Specialist": ["Digital Marketing Foundations"],
    "Customer Service Representative": ["Customer Service Excellence"],
    "Guest Services Agent": ["Customer Service Excellence"],
    "Client Care Associate": ["Customer Service Excellence"],
    "Early Childhood Educator": ["Early Childhood Education Foundations"],
    "Child Care Assistant": ["Early Childhood Education Foundations"],
    "Residential Energy Advisor": ["Energy-Efficient and Sustainable Construction"],
    "Site Supervisor, High-Performance Homes": ["Energy-Efficient and Sustainable Construction",
                                                "Workplace Health and Safety", "Project Management Fundamentals"],
    "Inventory Planner": ["Supply Chain and Logistics Essentials"],
    "Logistics Coordinator": ["Supply Chain and Logistics Essentials"],
    "Warehouse Lead Hand": ["Supply Chain and Logistics Essentials", "Workplace Health and Safety"],
    "Newcomer Employment Counsellor": ["Intercultural Communication in the Workplace"],
    "Class 1 Truck Driver": ["Supply Chain and Logistics Essentials"],
    "AZ Truck Driver - Regional Routes": ["Supply Chain and Logistics Essentials"],
    "Retail Store Supervisor": ["Customer Service Excellence"],
}
WRITTEN = ["nursing_rpn.txt", "trucking_az.txt", "retail_supervisor.txt"]


def postings() -> list[tuple[str, str]]:
    """(title, text) of the sample postings, then the written ones (their first line is the title)."""
    out = []
    for line in (ROOT / "data" / "postings" / "sample_postings.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            out.append((item["title"], item["text"]))
    for name in WRITTEN:
        text = (HERE / "data" / "postings" / name).read_text(encoding="utf-8")
        out.append((text.splitlines()[0].split(" (")[0] if name == "nursing_rpn.txt" else text.splitlines()[0], text))
    return out


def tagged_catalog(app: CompetencyMap, folder: Path) -> tuple[Catalog, dict[int, str], int]:
    """The sample catalog with each credential's confident suggestions accepted."""
    catalog = Catalog(f"sqlite:///{folder / 'catalog.sqlite'}")
    credentials = catalog.import_credentials(read_credentials_file(ROOT / "data" / "catalog" / "sample_credentials.json"))
    accepted = 0
    for credential in credentials:
        outcomes = credential.learning_outcomes
        suggested = suggest_tags(app, [o.text for o in outcomes], frameworks=FRAMEWORKS, top_k=5, context=credential.title)
        tags = catalog.add_suggestions(credential.id, [(o.id, items) for o, items in zip(outcomes, suggested)])
        for tag in tags:
            if tag.evidence.get("confident"):
                catalog.set_tag_state(tag.id, "accepted", "benchmark")
                accepted += 1
    return catalog, {c.id: c.title for c in credentials}, accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    started = time.perf_counter()
    app = CompetencyMap(load_settings())
    with tempfile.TemporaryDirectory() as tmp:
        catalog, titles, accepted = tagged_catalog(app, Path(tmp))
        rows = run(app, catalog, titles, FRAMEWORKS)
        esco_only = run(app, catalog, titles, ["esco"])
        catalog.close()
    report = summary(rows, accepted)
    report["esco_needs_only"] = summary(esco_only, accepted)
    report["seconds"] = round(time.perf_counter() - started, 1)
    table = markdown(rows, report)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": "python benchmarks/matching.py"}
    (args.out / "matching.json").write_text(json.dumps({**meta, **report, "postings": rows}, indent=2) + "\n")
    (args.out / "matching.md").write_text(table)


def run(app: CompetencyMap, catalog: Catalog, titles: dict[int, str], frameworks: list[str]) -> list[dict]:
    """Each posting matched against the tagged catalog, needs in `frameworks`."""
    coverage = catalog_coverage(app, catalog, frameworks)
    rows = []
    for title, text in postings():
        report = match_posting(app, catalog, text, frameworks=frameworks, coverage=coverage, title=title)
        own = set(DOMAIN.get(title, []))
        shares = {titles[c.credential_id]: c.coverage for c in report.credentials}
        unrelated = {t: s for t, s in shares.items() if t not in own}
        rows.append({
            "posting": title, "needs": len(report.needs), "optional_needs": len(report.optional_needs),
            "top_needs": [n.label for n in report.needs[:6]],
            "optional": [n.label for n in report.optional_needs],
            "own_domain": sorted(own), "own_coverage": max((shares.get(t, 0.0) for t in own), default=None),
            "max_unrelated": max(unrelated.values(), default=0.0),
            "max_unrelated_credential": max(unrelated, key=unrelated.get) if unrelated else None,
            "uncovered": len(report.uncovered_by_catalog),
        })
    return rows


def summary(rows: list[dict], accepted: int) -> dict:
    own = [r["own_coverage"] for r in rows if r["own_coverage"] is not None]
    unrelated = [r["max_unrelated"] for r in rows]
    return {"postings": len(rows), "accepted_tags": accepted,
            "mean_needs": round(statistics.mean(r["needs"] for r in rows), 1),
            "mean_own_domain_coverage": round(statistics.mean(own), 3) if own else None,
            "mean_max_unrelated_coverage": round(statistics.mean(unrelated), 3),
            "postings_with_unrelated_over_5pct": sum(u > 0.05 for u in unrelated)}


def markdown(rows: list[dict], report: dict) -> str:
    lines = ["| posting | needs (+optional) | top needs | own-domain coverage | most covered by an unrelated credential |",
             "|---|---|---|---|---|"]
    for r in rows:
        own = "—" if r["own_coverage"] is None else f"{r['own_coverage']:.0%}"
        worst = f"{r['max_unrelated']:.0%} ({r['max_unrelated_credential']})" if r["max_unrelated_credential"] else "0%"
        lines.append(f"| {r['posting']} | {r['needs']} (+{r['optional_needs']}) | {'; '.join(r['top_needs'][:4])} | "
                     f"{own} | {worst} |")
    lines += ["", f"{report['postings']} postings, {report['accepted_tags']} accepted tags; mean needs "
              f"{report['mean_needs']}; own-domain credential covers {report['mean_own_domain_coverage']:.0%} on average; "
              f"the most an unrelated credential covers is {report['mean_max_unrelated_coverage']:.1%} on average, "
              f"over 5% for {report['postings_with_unrelated_over_5pct']} postings."]
    esco = report.get("esco_needs_only")
    if esco:
        lines.append(f"ESCO needs only: own-domain coverage {esco['mean_own_domain_coverage']:.0%} on average; "
                     f"the most an unrelated credential covers is {esco['mean_max_unrelated_coverage']:.1%} on "
                     f"average, over 5% for {esco['postings_with_unrelated_over_5pct']} postings.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
