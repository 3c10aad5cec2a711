"""Views of a design search: tidy tables, CSV, a self-contained HTML page and a figure.

``rows_frame`` has one row per design × scenario (design number, rank, varied settings, scenario,
method, headline metrics); ``designs_frame`` one row per design, best first, with the metrics
averaged over the scenarios. Designs are numbered from 1 where a person reads them.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from dosewise.simulate.search import METRICS, SearchResult

#: Short column titles for people.
LABELS = {
    "pct_select_true_obd": "% select true OBD",
    "pct_patients_at_true_obd": "% patients at true OBD",
    "pct_patients_above_mtd": "% patients above MTD",
    "pct_select_above_mtd": "% select above MTD",
    "early_stop_pct": "% early stop",
    "mean_total_n": "mean N",
    "mean_duration_days": "mean duration (days)",
}


def _setting_names(result: SearchResult) -> list[str]:
    names: list[str] = []
    for settings in result.settings:
        names += [k for k in settings if k not in names]
    return names


def rows_frame(result: SearchResult) -> pd.DataFrame:
    """One row per design × scenario, in design then scenario order."""
    ranks = {d["design"]: d["rank"] for d in result.ranking()}
    names = _setting_names(result)
    records = []
    for row in result.rows:
        i = row["design"]
        record: dict[str, Any] = {"design": i + 1, "rank": ranks[i]}
        record.update({k: result.settings[i].get(k) for k in names})
        record.update(
            scenario=row["scenario"],
            method=row["method"],
            true_obd="none" if row["true_obd"] is None else row["true_obd"],
        )
        record.update({k: row[k] for k in METRICS})
        record["pct_select_true_obd_se"] = row["pct_select_true_obd_se"]
        record["mean_duration_months"] = row["mean_duration_months"]
        record.update({f"select_{d}": v for d, v in row["selection_pct"].items()})
        record["trials"] = row["trials"]
        record["states"] = row["states"]
        records.append(record)
    return pd.DataFrame(records)


def designs_frame(result: SearchResult) -> pd.DataFrame:
    """One row per design, best first, with the metrics averaged over the scenarios."""
    names = _setting_names(result)
    records = []
    for entry in result.ranking():
        record: dict[str, Any] = {"rank": entry["rank"], "design": entry["design"] + 1}
        record.update({k: entry["settings"].get(k) for k in names})
        record.update({f"mean_{k}": entry[f"mean_{k}"] for k in METRICS})
        record["methods"] = ", ".join(f"{m} {c}" for m, c in entry["methods"].items())
        records.append(record)
    return pd.DataFrame(records)


def write_csv(result: SearchResult, path: str | Path) -> Path:
    """The design × scenario rows as CSV, after ``#`` lines saying how they were made."""
    out = Path(path)
    header = (
        f"# dosewise search: {len(result.designs)} designs x {len(result.scenarios)} scenarios; "
        f"rank_by={result.rank_by} ({result.order}); trials={result.trials} seed={result.seed} "
        f"tite={result.tite}\n"
    )
    with out.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header)
        rows_frame(result).to_csv(handle, index=False, float_format="%.6g")
    return out


_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin-bottom: 2em; }
th, td { border: 1px solid #bbb; padding: 3px 7px; text-align: right; }
th { background: #eef; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
"""


def _table(frame: pd.DataFrame) -> str:
    def number(value: float) -> str:
        return f"{value:.2f}"

    return str(frame.to_html(index=False, float_format=number, na_rep="", border=0))


def write_html(result: SearchResult, path: str | Path, figure: str | None = None) -> Path:
    """A self-contained HTML page: the ranking, then every design × scenario row."""
    out = Path(path)
    criterion = LABELS.get(result.rank_by, result.rank_by)
    methods = rows_frame(result)["method"].value_counts().to_dict()
    intro = (
        f"{len(result.designs)} designs × {len(result.scenarios)} scenarios "
        f"({', '.join(result.scenarios)}); ranked by {criterion} averaged over the scenarios "
        f"({result.order}). Methods: "
        + ", ".join(f"{m} {c}" for m, c in sorted(methods.items()))
        + f". Simulated rows: {result.trials:,} trials each, seed {result.seed}"
        + (", TITE-BOIN12" if result.tite else "")
        + f". {result.seconds:.1f} s."
    )
    designs = designs_frame(result).rename(columns={f"mean_{k}": v for k, v in LABELS.items()})
    rows = rows_frame(result).rename(columns=LABELS)
    image = f'<p><img src="{html.escape(figure)}" alt="search figure"></p>' if figure else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dosewise design search</title>
<style>{_STYLE}</style></head><body>
<h1>Design search</h1>
<p>{html.escape(intro)}</p>
{image}
<h2>Designs, best first (means over the scenarios)</h2>
{_table(designs)}
<h2>Every design under every scenario</h2>
{_table(rows)}
</body></html>
"""  # fmt: skip
    out.write_text(page, encoding="utf-8")
    return out


def plot_search(result: SearchResult, path: str | Path, top: int = 40) -> Path:
    """Criterion per design (best ``top`` designs; a dot per scenario, a bar for the mean)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranking = result.ranking()[:top]
    by_design: dict[int, dict[str, float]] = {}
    for row in result.rows:
        by_design.setdefault(row["design"], {})[row["scenario"]] = float(row[result.rank_by])
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2.2, 1]}, constrained_layout=True
    )
    x = range(len(ranking))
    means = [e[f"mean_{result.rank_by}"] for e in ranking]
    left.bar(x, means, color="#c8d3e6", label="mean over scenarios")
    markers = "os^vDP*Xh<>"
    for k, name in enumerate(result.scenarios):
        values = [by_design[e["design"]].get(name, float("nan")) for e in ranking]
        left.plot(x, values, markers[k % len(markers)], ms=4, label=name, alpha=0.8)
    left.set_xticks(list(x), [str(e["design"] + 1) for e in ranking], fontsize=7, rotation=90)
    left.set_xlabel("design (best first)")
    left.set_ylabel(LABELS.get(result.rank_by, result.rank_by))
    left.legend(fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    left.set_title(f"Ranking by {LABELS.get(result.rank_by, result.rank_by)}", fontsize=10)

    all_means = result.means()
    sx = [m["pct_patients_above_mtd"] for m in all_means]
    sy = [m["pct_select_true_obd"] for m in all_means]
    right.scatter(sx, sy, s=14, color="#4c72b0")
    best = ranking[0]["design"]
    right.scatter([sx[best]], [sy[best]], s=60, color="#c44e52", label=f"rank 1: design {best + 1}")
    right.set_xlabel("mean % patients above the MTD")
    right.set_ylabel("mean % selecting the true OBD")
    right.set_title("Every design (means over scenarios)", fontsize=10)
    right.legend(fontsize=8)
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
