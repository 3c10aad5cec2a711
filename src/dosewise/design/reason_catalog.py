"""The message catalog of design reasons: one English and one Chinese template per code.

Templates are ``str.format`` strings over a reason's parameters (doses 1-based). Keys that start
with ``_`` are fragments the renderer (:mod:`dosewise.design.reasons`) composes into a message:
the DLT-rate clause, a tie sentence, one desirability value. ``CHOICES`` translates the few
parameters whose value is a word (the move, the zone, the tie-break rule). The English texts are
the ones ``dosewise decide`` has always printed; the Chinese ones use the terms of the Chinese
BOIN12 literature and keep only the symbols a statistician reads in either language (DLT, OBD,
MTD, λe, λd, φT, N*, N2, Pr(U > u), p_E, p_T, C(n)).
"""

from __future__ import annotations

from typing import Final, Literal

Lang = Literal["en", "zh"]

#: The languages every catalog entry has.
LANGS: Final[tuple[Lang, ...]] = ("en", "zh")

MESSAGES: Final[dict[str, dict[Lang, str]]] = {
    # -- fragments ----------------------------------------------------------------------------
    "_rate": {
        "en": "DLT rate at dose {current} is {dlt}/{n} = {p_hat:.3f}",
        "zh": "剂量 {current} 的 DLT 率为 {dlt}/{n} = {p_hat:.3f}",
    },
    "_rate_ess": {
        "en": (
            "DLT rate at dose {current} is {dlt}/{ess:.2f} (effective sample size) = {p_hat:.3f}"
        ),
        "zh": "剂量 {current} 的 DLT 率为 {dlt}/{ess:.2f}（有效样本量）= {p_hat:.3f}",
    },
    "_no_escalation": {
        "en": " (n = {n} >= N* = {n_star}, so no escalation)",
        "zh": "（n = {n} ≥ N* = {n_star}，因此不递增）",
    },
    "_value": {"en": "dose {dose}: {value:.4f}", "zh": "剂量 {dose}：{value:.4f}"},
    "_tie": {
        "en": " Tie between doses {tied} broken by the '{tie_break}' rule.",
        "zh": "剂量 {tied} 并列，按“{tie_break}”规则选定。",
    },
    # -- BOIN12 decisions (boin12.md §4-§5) ---------------------------------------------------
    "start": {
        "en": "No patient yet: start at dose {dose}.",
        "zh": "尚无受试者：从剂量 {dose} 开始。",
    },
    "deescalate": {
        "en": (
            "De-escalate to dose {dose}: {rate} >= λd = {lambda_d:.3f}; dose {dose} is the "
            "highest eligible lower dose."
        ),
        "zh": "降至剂量 {dose}：{rate} ≥ λd = {lambda_d:.3f}；剂量 {dose} 是可用的最高较低剂量。",
    },
    "stay_no_lower": {
        "en": "Stay at dose {dose}: {rate} >= λd = {lambda_d:.3f} but no lower dose is eligible.",
        "zh": "维持剂量 {dose}：{rate} ≥ λd = {lambda_d:.3f}，但没有可用的较低剂量。",
    },
    "highest_desirability": {
        "en": (
            "{move} dose {dose}: {rate} is in the {zone} zone (λe = {lambda_e:.3f}, "
            "λd = {lambda_d:.3f}){no_escalation}; among candidates {candidates} dose {dose} "
            "has the highest desirability Pr(U > {u_b_prob:.3f}) ({values}).{tie}"
        ),
        "zh": (
            "{move}剂量 {dose}：{rate}，处于{zone}（λe = {lambda_e:.3f}，λd = {lambda_d:.3f}）"
            "{no_escalation}；在候选剂量 {candidates} 中，剂量 {dose} 的合意性 "
            "Pr(U > {u_b_prob:.3f}) 最高（{values}）。{tie}"
        ),
    },
    "explore": {
        "en": (
            "Escalate to dose {dose} by extra dose exploration: {n} >= N2 = {n2} patients at "
            "dose {current}, dose {dose} untried and {rate} < λd = {lambda_d:.3f}."
        ),
        "zh": (
            "按额外剂量探索规则升至剂量 {dose}：剂量 {current} 已有 {n} 例受试者（≥ N2 = {n2}），"
            "剂量 {dose} 尚未试用，且{rate} < λd = {lambda_d:.3f}。"
        ),
    },
    "stop_lowest_toxic": {
        "en": "Stop, no OBD: the lowest dose is eliminated for toxicity.",
        "zh": "终止试验，无 OBD：最低剂量因毒性被剔除。",
    },
    "stop_all_eliminated": {
        "en": "Stop, no OBD: every dose is eliminated (toxicity or futility).",
        "zh": "终止试验，无 OBD：所有剂量均已被剔除（因毒性或无效）。",
    },
    "stop_no_lower_eliminated": {
        "en": (
            "Stop, no OBD: {rate} >= λd = {lambda_d:.3f}, no lower dose is eligible and dose "
            "{current} is eliminated."
        ),
        "zh": (
            "终止试验，无 OBD：{rate} ≥ λd = {lambda_d:.3f}，没有可用的较低剂量，"
            "且剂量 {current} 已被剔除。"
        ),
    },
    "stop_chosen_eliminated": {
        "en": (
            "Stop, no OBD: the candidate with the highest desirability, dose {dose}, is eliminated."
        ),
        "zh": "终止试验，无 OBD：合意性最高的候选剂量（剂量 {dose}）已被剔除。",
    },
    "end_earlystop": {
        "en": (
            "Trial ends: {n} patients at dose {current} reached n_earlystop = {n_earlystop}; "
            "select the OBD."
        ),
        "zh": (
            "试验结束：剂量 {current} 已有 {n} 例受试者，达到提前结束例数 {n_earlystop}；"
            "请选择 OBD。"
        ),
    },
    "end_max_n": {
        "en": (
            "Trial ends: {total_n} patients reached the maximum sample size {max_n} (the rule "
            "would give dose {dose}); select the OBD."
        ),
        "zh": (
            "试验结束：共 {total_n} 例受试者，达到最大样本量 {max_n}（规则给出的剂量为 {dose}）；"
            "请选择 OBD。"
        ),
    },
    # -- OBD selection (boin12.md §7) ---------------------------------------------------------
    "obd_selected": {
        "en": (
            "Estimated MTD is dose {mtd} (isotonic DLT rate {mtd_tox:.3f} closest to φT = "
            "{phi_t}); among tried, non-eliminated doses up to it, dose {obd} has the highest "
            "posterior-mean utility {utility:.3f}."
        ),
        "zh": (
            "估计的 MTD 为剂量 {mtd}（保序回归 DLT 率 {mtd_tox:.3f} 最接近 φT = {phi_t}）；"
            "在不高于它、已试用且未被剔除的剂量中，剂量 {obd} 的后验均值效用最高（{utility:.3f}）。"
        ),
    },
    "obd_none": {
        "en": (
            "No OBD: no tried, non-eliminated dose at or below the estimated MTD (dose {mtd}, "
            "isotonic DLT rate {mtd_tox:.3f} closest to φT = {phi_t})."
        ),
        "zh": (
            "无 OBD：估计的 MTD（剂量 {mtd}，保序回归 DLT 率 {mtd_tox:.3f} 最接近 φT = {phi_t}）"
            "及以下没有已试用且未被剔除的剂量。"
        ),
    },
    # -- TITE-BOIN12 accrual (boin12.md §8) ---------------------------------------------------
    "tite_suspend": {
        "en": (
            "Suspend accrual: {pending} of {n} patients at dose {dose} have an outcome pending "
            "(limit {limit:g} = {maxpen} x n); the next patient must wait, at most "
            "{wait_days:g} days if no event occurs."
        ),
        "zh": (
            "暂停入组：剂量 {dose} 的 {n} 例受试者中有 {pending} 例结局待定"
            "（上限 {limit:g} = {maxpen} × n）；下一位受试者须等待，若无事件发生，"
            "最多等待 {wait_days:g} 天。"
        ),
    },
    "tite_complete_earlystop": {
        "en": (
            "Accrual complete, awaiting follow-up: {n} patients at dose {current} reached "
            "n_earlystop = {n_earlystop}; {pending} patient(s) still have an outcome pending, "
            "the last due in {due_days:g} days if no event occurs. Then decide on the complete "
            "data and select the OBD."
        ),
        "zh": (
            "入组已完成，等待随访：剂量 {current} 已有 {n} 例受试者，达到提前结束例数 "
            "{n_earlystop}；仍有 {pending} 例受试者结局待定，若无事件发生，最后一个结局将在 "
            "{due_days:g} 天后得到。届时基于完整数据作出决策并选择 OBD。"
        ),
    },
    "tite_complete_max_n": {
        "en": (
            "Accrual complete, awaiting follow-up: {total_n} patients reached the maximum sample "
            "size {max_n}; {pending} patient(s) still have an outcome pending, the last due in "
            "{due_days:g} days if no event occurs. Then decide on the complete data and select "
            "the OBD."
        ),
        "zh": (
            "入组已完成，等待随访：共 {total_n} 例受试者，达到最大样本量 {max_n}；仍有 "
            "{pending} 例受试者结局待定，若无事件发生，最后一个结局将在 {due_days:g} 天后得到。"
            "届时基于完整数据作出决策并选择 OBD。"
        ),
    },
    # -- BOP2 looks (phase 2) -------------------------------------------------------------
    "bop2_continue": {
        "en": "no stopping rule fires at n={n} (cutoff C(n) = {cutoff:.4f})",
        "zh": "n = {n} 时没有触发任何停止规则（界值 C(n) = {cutoff:.4f}）",
    },
    "bop2_futility": {
        "en": "futility: Pr(p_E <= {p0} | data) = {pr_futile:.4f} > {cutoff:.4f}",
        "zh": "无效：Pr(p_E ≤ {p0} | 数据) = {pr_futile:.4f} > {cutoff:.4f}",
    },
    "bop2_toxicity": {
        "en": "toxicity: Pr(p_T > {phi_t0} | data) = {pr_toxic:.4f} > {cutoff:.4f}",
        "zh": "毒性：Pr(p_T > {phi_t0} | 数据) = {pr_toxic:.4f} > {cutoff:.4f}",
    },
    "bop2_futility_toxicity": {
        "en": (
            "futility: Pr(p_E <= {p0} | data) = {pr_futile:.4f} > {cutoff:.4f}; "
            "toxicity: Pr(p_T > {phi_t0} | data) = {pr_toxic:.4f} > {cutoff:.4f}"
        ),
        "zh": (
            "无效：Pr(p_E ≤ {p0} | 数据) = {pr_futile:.4f} > {cutoff:.4f}；"
            "毒性：Pr(p_T > {phi_t0} | 数据) = {pr_toxic:.4f} > {cutoff:.4f}"
        ),
    },
}

#: Parameters whose value is a word, and that word in each language.
CHOICES: Final[dict[str, dict[str, dict[Lang, str]]]] = {
    "move": {
        "stay": {"en": "Stay at", "zh": "维持"},
        "escalate": {"en": "Escalate to", "zh": "升至"},
        "deescalate": {"en": "De-escalate to", "zh": "降至"},
    },
    "zone": {
        "escalation": {"en": "escalation", "zh": "递增区间"},
        "stay": {"en": "stay", "zh": "维持区间"},
    },
    "tie_break": {
        "random": {"en": "random", "zh": "随机"},
        "higher": {"en": "higher", "zh": "取较高剂量"},
        "lower": {"en": "lower", "zh": "取较低剂量"},
    },
}

#: How a list of doses or values is joined in each language.
SEPARATORS: Final[dict[Lang, str]] = {"en": ", ", "zh": "，"}
DOSE_SEPARATORS: Final[dict[Lang, str]] = {"en": ", ", "zh": "、"}
