"""The operating-characteristics figure: selection and allocation per dose, with 95% MC bars."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dosewise.simulate.summary import OperatingCharacteristics


def plot_summary(summary: OperatingCharacteristics, path: str | Path) -> Path:
    """Save a PNG (or any Matplotlib format by suffix) of one summary; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = summary.figures()
    j = summary.params.n_doses
    obd = summary.true_obd
    labels = [str(d + 1) for d in range(j)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)

    sel = np.asarray(f["selection_pct"])
    sel_err = 1.96 * np.asarray(f["selection_se"])
    colours = ["#c44e52" if obd == d + 1 else "#4c72b0" for d in range(j)] + [
        "#c44e52" if obd is None else "#8c8c8c"
    ]
    left.bar([*labels, "none"], sel, yerr=sel_err, color=colours, capsize=3)
    left.set_xlabel("dose level")
    left.set_ylabel("% of trials selecting the dose")
    left.set_title("Selection as OBD (red: true OBD)")
    for x, value in enumerate(sel):
        left.annotate(f"{value:.1f}", (x, value), ha="center", va="bottom", fontsize=8)

    mean_n = np.asarray(f["mean_n"])
    n_err = 1.96 * np.asarray(f["se_n"])
    right.bar(labels, mean_n, yerr=n_err, color=colours[:j], capsize=3)
    right.set_xlabel("dose level")
    right.set_ylabel("mean patients treated")
    right.set_title("Allocation")
    ax2 = right.twinx()
    ax2.plot(labels, summary.scenario.p_tox, "o-", color="#dd8452", label="true p(DLT)")
    ax2.plot(labels, summary.scenario.p_eff, "s--", color="#55a868", label="true p(response)")
    ax2.axhline(summary.params.phi_t, color="#dd8452", lw=0.8, ls=":")
    ax2.axhline(summary.params.phi_e, color="#55a868", lw=0.8, ls=":")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("probability")
    ax2.legend(loc="upper left", fontsize=8)

    engine = "TITE-BOIN12" if summary.tite else "BOIN12"
    p = summary.params
    how = (
        "exact" if summary.trials is None else f"{summary.trials:,} trials, seed {summary.run_seed}"
    )
    fig.suptitle(
        f"{engine}, scenario '{summary.scenario.name}': {how}; φT={p.phi_t}, φE={p.phi_e}, "
        f"u11={p.u11:g}, u00={p.u00:g}, "
        f"cohort {p.cohort_size}, N={p.max_n}, tie-break {p.tie_break}; "
        f"early stop {f['early_stop_pct']:.1f}%",
        fontsize=9,
    )
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
