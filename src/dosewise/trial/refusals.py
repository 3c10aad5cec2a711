"""The services' refusals and validation errors as data: a stable code, its parameters, and
words in English and Chinese (issue 16 item 1).

A service raises ``refusal(WrongState, "study_id", study_id, "already_enrolled")``: the
error's ``rule`` is the English text rendered here (so the API's ``message`` reads as before),
and it carries ``reason_code`` and ``reason_params``. The API (``reason`` in the request's
language) and the web pages (flashes, form errors, the 403 page) render the code through
:func:`dosewise.trial.state.reasons.reason_text`, which dispatches here. :func:`subject` gives
the field and value an error is about, in words of the page's language.

Templates are ``str.format`` strings. A parameter named in :data:`CHOICES` is a code whose
words are looked up (a status, a role, an action, a point of the timeline); a parameter whose
value is a mapping with a ``reason_code`` (a step of the arm state) is rendered by the caller
(:func:`render` takes it already in words). Parameters that name participants go through
:func:`dosewise.trial.confidential.redact_for` before they are put here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, TypeVar

from dosewise.errors import DosewiseError

Lang = Literal["en", "zh"]
E = TypeVar("E", bound=DosewiseError)

#: One template per refusal code, in each language.
REFUSALS: Final[dict[str, dict[Lang, str]]] = {
    # -- who may act -------------------------------------------------------------------------
    "role_may_not": {"en": "role {role} may not {action}", "zh": "角色“{role}”无权{action}"},
    "other_site": {
        "en": "{username} works at site {site} only",
        "zh": "{username} 仅可处理中心 {site} 的数据",
    },
    "report_every_site": {
        "en": "the {report} holds every site's records; {username} may read site {site} only",
        "zh": "{report}包含所有中心的记录；{username} 仅可查看中心 {site}",
    },
    "dsmb_every_site": {
        "en": "the DSMB view holds every site's participants",
        "zh": "DSMB 视图包含所有中心的受试者，仅限可查看所有中心的角色",
    },
    "form_stale": {
        "en": "the form is out of date or not from this site: reload",
        "zh": "表单已过期或并非来自本站：请刷新页面",
    },
    "signin_expired": {
        "en": "the sign-in form expired: reload the page",
        "zh": "登录表单已过期：请刷新页面",
    },
    "csrf_missing": {
        "en": "missing or wrong CSRF token for a cookie session",
        "zh": "会话缺少或带有错误的 CSRF 令牌",
    },
    "query_closer": {
        "en": "only who raised the query or a data manager may close or re-open it",
        "zh": "只有提出该质疑的人或数据管理员可以关闭或重新打开它",
    },
    "logged_in_user": {
        "en": "clinical acts are done by a logged-in user",
        "zh": "临床操作须由已登录的用户完成",
    },
    "person_signs": {"en": "only a person can sign", "zh": "只有具体的人才能签名"},
    # -- generic values ----------------------------------------------------------------------
    "required": {"en": "is required", "zh": "为必填项"},
    "required_for_correction": {
        "en": "is required for a correction",
        "zh": "更正记录时必须填写",
    },
    "one_of": {"en": "must be one of {choices}", "zh": "须为以下之一：{choices}"},
    "unknown_value": {"en": "unknown value", "zh": "未知的值"},
    "no_such_site": {"en": "no such active site", "zh": "没有该启用中的中心"},
    "no_such_site_any": {"en": "no such site", "zh": "没有该中心"},
    "no_such_arm": {"en": "no such arm", "zh": "没有该组别"},
    "no_arms": {
        "en": "no arm loaded: run `dosewise db upgrade`",
        "zh": "尚未载入任何组别：请运行 `dosewise db upgrade`",
    },
    "no_such_participant": {"en": "no such participant", "zh": "没有该受试者"},
    "no_such_record": {"en": "no such record", "zh": "没有该记录"},
    "no_such_user": {"en": "no such user", "zh": "没有该用户"},
    "no_such_active_user": {"en": "no such active user", "zh": "没有该启用中的用户"},
    "db_empty": {
        "en": "is empty (no schema), the code needs revision {head}: run `{command}`",
        "zh": "为空（无表结构），当前代码需要修订版 {head}：请运行 `{command}`",
    },
    "db_behind": {
        "en": "is at revision {current}, the code needs revision {head}: run `{command}`",
        "zh": "处于修订版 {current}，当前代码需要修订版 {head}：请运行 `{command}`",
    },
    "site_required_for_role": {
        "en": "a {role} must belong to a site",
        "zh": "{role}必须隶属于一个中心",
    },
    "username_pattern": {
        "en": "3-64 characters: lower-case letters, digits, '.', '_', '-'",
        "zh": "须为 3–64 个字符：小写字母、数字、“.”、“_”、“-”",
    },
    "full_name_required": {
        "en": "the printed name signatures show is required",
        "zh": "必须填写签名上显示的姓名",
    },
    "already_exists": {"en": "already exists", "zh": "已存在"},
    "site_not_for_role": {
        "en": "a {role} works across sites: leave it empty",
        "zh": "{role}可处理所有中心的数据：请留空",
    },
    "no_such_site_known": {
        "en": "no such site (known: {known})",
        "zh": "没有该中心（已有：{known}）",
    },
    "no_such_folder": {"en": "the folder does not exist", "zh": "该文件夹不存在"},
    "no_such_query": {"en": "no such query", "zh": "没有该质疑"},
    "no_such_query_record": {
        "en": "{study_id} has no {record} {record_id}",
        "zh": "{study_id} 没有{record} {record_id}",
    },
    "no_such_consent": {
        "en": "no such consent of {study_id}",
        "zh": "{study_id} 没有该知情同意记录",
    },
    "no_such_event": {
        "en": "no such adverse event of {study_id}",
        "zh": "{study_id} 没有该不良事件",
    },
    "year_range": {
        "en": "must be from 1900 to {year}",
        "zh": "须在 1900 至 {year} 之间",
    },
    "limit_range": {"en": "must be 1 to 1000", "zh": "须在 1 至 1000 之间"},
    "offset_range": {"en": "must be 0 or more", "zh": "须不小于 0"},
    "phase_range": {"en": "must be 1 or 2", "zh": "须为 1 或 2"},
    "text_too_long": {
        "en": "must be at most {max} characters of text",
        "zh": "文字不得超过 {max} 个字符",
    },
    # -- dates on the timeline ---------------------------------------------------------------
    "in_future": {"en": "is in the future (today is {today})", "zh": "晚于今天（今天是 {today}）"},
    "in_future_at": {
        "en": "is in the future (today is {today} in {zone})",
        "zh": "晚于今天（{zone} 时区今天是 {today}）",
    },
    "before_point": {"en": "is before {point} ({date})", "zh": "早于{point}（{date}）"},
    "before_what": {"en": "is before {what} ({date})", "zh": "早于{what}（{date}）"},
    "after_death": {"en": "is after death ({date})", "zh": "晚于死亡日期（{date}）"},
    # -- participants and enrolment ----------------------------------------------------------
    "not_enrolled": {"en": "is not enrolled in an arm yet", "zh": "尚未入组任何组别"},
    "enrolled_screen_first": {
        "en": "is already enrolled: screening comes before",
        "zh": "已入组：筛选应在入组之前",
    },
    "already_enrolled": {"en": "is already enrolled", "zh": "已入组"},
    "no_eligible_screening": {
        "en": "{study_id} has no eligible screening for this arm: screen first",
        "zh": "{study_id} 在该组别没有合格的筛选记录：请先筛选",
    },
    "no_valid_consent": {"en": "has no valid consent on record", "zh": "没有有效的知情同意记录"},
    "off_study": {"en": "is off study", "zh": "已退出研究"},
    "off_study_since": {"en": "is already off study since {date}", "zh": "已于 {date} 退出研究"},
    "dose_finding_ended": {
        "en": "dose finding has ended: {step}",
        "zh": "剂量探索已结束：{step}",
    },
    "arm_closed": {"en": "the arm is closed to enrollment", "zh": "该组别已停止入组"},
    "arm_limit": {
        "en": "the arm's {limit_name} is reached ({taken} of {limit} participants enrolled)",
        "zh": "已达到该组别的{limit_name}（已入组 {taken}/{limit} 例）",
    },
    "trial_limit": {
        "en": "the trial's total enrolment is reached ({taken} of {limit} participants)",
        "zh": "已达到试验的总入组人数（{taken}/{limit} 例）",
    },
    # -- consent -----------------------------------------------------------------------------
    "consent_exists": {
        "en": (
            "{study_id} already has consent version {version} ({state}, {date}): correct that "
            "record with a reason{void}, or record consent on a new version"
        ),
        "zh": (
            "{study_id} 已有知情同意书版本 {version}（{state}，{date}）：请填写理由更正该记录"
            "{void}，或以新版本记录知情同意"
        ),
    },
    "no_consent_to_correct": {
        "en": "there is no consent version {version} to correct",
        "zh": "没有可更正的知情同意书版本 {version}",
    },
    "age_or_birth": {
        "en": "give date_of_birth or age_years",
        "zh": "请填写出生日期或年龄（岁）",
    },
    "void_reason": {"en": "is required to void a consent", "zh": "作废知情同意时必须填写"},
    "already_voided": {"en": "is already voided", "zh": "已作废"},
    "consent_complete": {
        "en": "is complete: only an incomplete consent can be voided",
        "zh": "已完整：只有不完整的知情同意可以作废",
    },
    # -- deviations --------------------------------------------------------------------------
    "deviation_reason": {"en": "is required for a deviation", "zh": "记录偏离时必须填写"},
    # -- dose assignment ---------------------------------------------------------------------
    "arm_version": {
        "en": (
            "arm {arm} is now at version {version}: someone else acted on it first; reload the "
            "arm state and try again"
        ),
        "zh": "组别 {arm} 现为第 {version} 版：已有他人先行操作；请刷新组别状态后重试",
    },
    "has_assignment": {"en": "already has a dose assignment", "zh": "已有剂量分配"},
    "phase_mismatch": {
        "en": "was enrolled in phase {phase} but the arm is in {arm_phase}",
        "zh": "入组于第 {phase} 阶段，但该组别目前处于{arm_phase}",
    },
    "needs_readjudication": {
        "en": (
            "the arm's next dose waits for an investigator to re-adjudicate the DLT status of "
            "{names} (e-signed): {why}"
        ),
        "zh": "该组别的下一剂量须等研究者重新判定 {names} 的 DLT 状态（电子签名）：{why}",
    },
    "needs_readjudication_others": {
        "en": (
            "the arm's next dose waits for an investigator to re-adjudicate the DLT status of "
            "{names}, {others} at another site (e-signed): {why}"
        ),
        "zh": (
            "该组别的下一剂量须等研究者重新判定 {names} 及另一中心 {others} 例的 DLT 状态"
            "（电子签名）：{why}"
        ),
    },
    "needs_readjudication_elsewhere": {
        "en": (
            "the arm's next dose waits for an investigator to re-adjudicate the DLT status of "
            "{others} at another site (e-signed): {why}"
        ),
        "zh": (
            "该组别的下一剂量须等研究者重新判定另一中心 {others} 例的 DLT 状态（电子签名）：{why}"
        ),
    },
    "no_assignment_to_confirm": {
        "en": "has no dose assignment to confirm",
        "zh": "没有待确认的剂量分配",
    },
    "assignment_already": {
        "en": "the dose assignment is already {status}",
        "zh": "该剂量分配已{status}",
    },
    # -- DLT adjudication --------------------------------------------------------------------
    "not_infused_adjudicate": {
        "en": "is not infused yet: nothing to adjudicate",
        "zh": "尚未回输：无可判定的内容",
    },
    "not_evaluable_required": {
        "en": "required to adjudicate not evaluable: one of {choices}",
        "zh": "判定为不可评价时必须填写，可选：{choices}",
    },
    "dlt_is_evaluable": {
        "en": "a participant with a DLT is DLT-evaluable",
        "zh": "发生 DLT 的受试者属于 DLT 可评价",
    },
    "dlt_window_open": {
        "en": (
            '{study_id} is in the DLT window until {date}: "no DLT" can only be provisional '
            '("no DLT so far") until then, or adjudicate not evaluable with one of the '
            "protocol's reasons"
        ),
        "zh": (
            "{study_id} 的 DLT 观察期至 {date}：在此之前“无 DLT”只能是暂定的（“目前无 DLT”），"
            "或以方案规定的理由之一判定为不可评价"
        ),
    },
    "provisional_only_in_window": {
        "en": 'only a "no DLT" inside the DLT window can be provisional',
        "zh": "只有 DLT 观察期内的“无 DLT”可以是暂定的",
    },
    "dlt_pending": {
        "en": (
            "the DLT assessment is still pending ({why}; window ends {date}): adjudicate when it "
            'is known, or record a provisional "no DLT so far" (is_dlt false)'
        ),
        "zh": (
            "DLT 评估仍待定（{why}；观察期于 {date} 结束）：待结果明确后再判定，"
            "或记录暂定的“目前无 DLT”"
        ),
    },
    "rationale_to_depart": {
        "en": "required to depart from the protocol's rule, which gives {status} ({why})",
        "zh": "偏离方案规则时必须填写（规则结果为{status}：{why}）",
    },
    "reason_only_not_evaluable": {
        "en": "only for a participant adjudicated not evaluable",
        "zh": "仅适用于判定为不可评价的受试者",
    },
    "final_exists": {
        "en": "already has a final adjudication: a provisional one cannot replace it",
        "zh": "已有最终判定：暂定判定不能替代它",
    },
    "already_adjudicated": {
        "en": "is already adjudicated: adjudicate again only with a rationale saying what changed",
        "zh": "已判定：再次判定须填写理由，说明发生了什么变化",
    },
    "readjudication_signature": {
        "en": (
            "required: re-adjudicating a reopened DLT adjudication needs the investigator's "
            "e-signature (re-enter your password)"
        ),
        "zh": "必填：重新判定已重开的 DLT 判定需要研究者电子签名（请再次输入密码）",
    },
    # -- adverse events ----------------------------------------------------------------------
    "give_components": {
        "en": "{syndrome} is graded from its ASTCT components: give {part}",
        "zh": "{syndrome} 按 ASTCT 组成项分级：请填写 {part} 组成项",
    },
    "components_not_syndrome": {
        "en": "components given for {term!r}, which is not {syndrome}",
        "zh": "为「{term}」填写了组成项，但它不是 {syndrome}",
    },
    "grade_required": {
        "en": "required: the CTCAE v5.0 grade (1-5)",
        "zh": "必填：CTCAE v5.0 分级（1–5）",
    },
    "astct_grade_zero": {
        "en": "the ASTCT 2019 grade of these components is 0 (no {syndrome}): {notes}",
        "zh": "这些组成项的 ASTCT 2019 分级为 0（无 {syndrome}）：{notes}",
    },
    "astct_grade_differs": {
        "en": (
            "ASTCT 2019 gives grade {grade} (set by {determined_by}); leave grade out or correct "
            "the components"
        ),
        "zh": "ASTCT 2019 得出 {grade} 级（由 {determined_by} 决定）；请不填分级或更正组成项",
    },
    "event_version": {
        "en": "the event is at version {version}: reload it and try again",
        "zh": "该事件现为第 {version} 版：请刷新后重试",
    },
    # -- products, lymphodepletion, infusion -------------------------------------------------
    "needs_confirmed_dose": {
        "en": "needs a confirmed dose assignment first",
        "zh": "须先有已确认的剂量分配",
    },
    "product_released": {
        "en": "already has a released product: correct it with a reason",
        "zh": "已有放行的产品：请填写理由更正",
    },
    "release_fixed": {
        "en": "is infused: the release can no longer change",
        "zh": "已回输：放行记录不能再更改",
    },
    "sign_correction": {
        "en": "the release was signed: sign the correction",
        "zh": "放行记录已签名：更正也须签名",
    },
    "already_infused": {"en": "is already infused", "zh": "已回输"},
    "regimen_recorded": {
        "en": (
            "already has its lymphodepleting regimen recorded (from {date}): correct that "
            "record with a reason"
        ),
        "zh": "已记录清淋方案（自 {date} 起）：请填写理由更正该记录",
    },
    "regimen_after_infusion": {
        "en": "is after the infusion ({date}): lymphodepletion ends before the infusion",
        "zh": "晚于回输日期（{date}）：清淋应在回输前结束",
    },
    "nothing_to_correct": {
        "en": "there is no {record} to correct",
        "zh": "没有可更正的{record}",
    },
    "no_released_product": {
        "en": "has no released product to infuse",
        "zh": "没有可回输的已放行产品",
    },
    "infused_correct": {
        "en": "is already infused: correct it with a reason",
        "zh": "已回输：请填写理由更正",
    },
    "regimen_first": {
        "en": "record the lymphodepleting regimen first",
        "zh": "请先记录清淋方案",
    },
    "outside_windows": {
        "en": (
            "gives {dose} cells/kg, outside every dose level's window ({windows}): record it "
            "as a protocol deviation with a reason and an investigator's e-signature"
        ),
        "zh": (
            "对应 {dose} 细胞/kg，超出所有剂量水平的范围（{windows}）：请作为方案偏离记录，"
            "并填写理由、由研究者电子签名"
        ),
    },
    # -- responses ---------------------------------------------------------------------------
    "not_infused_response": {
        "en": "is not infused: responses are assessed after",
        "zh": "尚未回输：疗效在回输后评估",
    },
    "marrow_or_category": {
        "en": "give the marrow assessment or a category",
        "zh": "请填写骨髓评估或疗效类别",
    },
    "not_infused_derive": {
        "en": "is not infused: there is no response to derive",
        "zh": "尚未回输：没有可推导的疗效",
    },
    # -- phases ------------------------------------------------------------------------------
    "phase1_closed": {
        "en": "phase 1 is already closed (the arm is in {arm_phase})",
        "zh": "第一阶段已关闭（该组别处于{arm_phase}）",
    },
    "design_not_ended": {
        "en": "the design has not ended dose finding: {step}",
        "zh": "设计尚未结束剂量探索：{step}",
    },
    "not_phase2": {
        "en": "the arm is in {arm_phase}, not phase 2",
        "zh": "该组别处于{arm_phase}，不在第二阶段",
    },
    "no_phase2_design": {"en": "the arm has no phase 2 design", "zh": "该组别没有第二阶段设计"},
    "none_evaluable": {
        "en": "no participant at the RP2D is evaluable yet (BOR final)",
        "zh": "RP2D 下尚无可评价的受试者（BOR 已确定）",
    },
    "no_new_evaluable": {
        "en": "no new evaluable participant since look {look} (n={n})",
        "zh": "自第 {look} 次分析（n={n}）以来没有新的可评价受试者",
    },
    "exceeds_n": {"en": "exceeds the design's N = {n_max}", "zh": "超过设计的 N = {n_max}"},
    # -- queries -----------------------------------------------------------------------------
    "query_state": {
        "en": "a query that is {status} cannot be given an {kind}",
        "zh": "处于“{status}”状态的质疑不能进行“{kind}”操作",
    },
    "not_a_field": {
        "en": "is not a field of {record} (one of {choices})",
        "zh": "不是{record}的字段（可选：{choices}）",
    },
    "no_parts": {
        "en": "{head} has no parts: name the field alone",
        "zh": "{head} 没有子项：只写字段名",
    },
    "participant_no_record": {
        "en": "a query on the participant names no record",
        "zh": "针对受试者的质疑不指定记录",
    },
    "record_required": {
        "en": "is required for a query on {record}",
        "zh": "针对{record}的质疑必须填写",
    },
}

#: The words of parameters whose value is a code.
CHOICES: Final[dict[str, dict[str, dict[Lang, str]]]] = {
    "role": {
        "admin": {"en": "admin", "zh": "管理员"},
        "investigator": {"en": "investigator", "zh": "研究者"},
        "coordinator": {"en": "coordinator", "zh": "研究协调员"},
        "statistician": {"en": "statistician", "zh": "统计师"},
        "dsmb": {"en": "dsmb", "zh": "DSMB 成员"},
        "monitor": {"en": "monitor", "zh": "监查员"},
        "data_manager": {"en": "data_manager", "zh": "数据管理员"},
        "none": {"en": "none", "zh": "无"},
    },
    "action": {
        "site.read": {"en": "list the trial's sites", "zh": "查看试验中心列表"},
        "user.read": {"en": "list and read user accounts", "zh": "查看用户账户"},
        "user.manage": {
            "en": "create users, change roles and sites, unlock and reset passwords",
            "zh": "创建用户、更改角色和中心、解锁及重置密码",
        },
        "audit.read": {"en": "read the audit trail", "zh": "查看稽查轨迹"},
        "audit.verify": {"en": "verify the audit trail's hash chain", "zh": "校验稽查轨迹的哈希链"},
        "audit.export": {"en": "export the audit trail", "zh": "导出稽查轨迹"},
        "arm.read": {"en": "read an arm's dose-finding state", "zh": "查看组别的剂量探索状态"},
        "participant.read": {
            "en": "read participants and their records",
            "zh": "查看受试者及其记录",
        },
        "participant.write": {
            "en": (
                "register, screen, consent, enroll participants and enter their clinical data "
                "(lymphodepletion, infusion, adverse events, responses)"
            ),
            "zh": "登记、筛选、知情同意、入组受试者并录入临床数据（清淋、回输、不良事件、疗效）",
        },
        "dose.assign": {
            "en": "ask the design for a participant's dose",
            "zh": "为受试者请求剂量分配",
        },
        "dose.confirm": {
            "en": "confirm a dose decision (e-signature)",
            "zh": "确认剂量决策（电子签名）",
        },
        "product.release": {"en": "release a product for infusion", "zh": "放行回输产品"},
        "dlt.adjudicate": {"en": "adjudicate dose-limiting toxicities", "zh": "判定剂量限制性毒性"},
        "deviation.record": {
            "en": "record a protocol deviation (investigator's e-signature)",
            "zh": "记录方案偏离（研究者电子签名）",
        },
        "phase1.close": {
            "en": "close phase 1 of an arm (OBD and RP2D, e-signature)",
            "zh": "关闭组别的第一阶段（OBD 与 RP2D，电子签名）",
        },
        "phase2.look": {
            "en": "run a phase 2 (BOP2) interim look",
            "zh": "进行第二阶段（BOP2）期中分析",
        },
        "scenario.simulate": {
            "en": "simulate an arm's design under a scenario of one's own (web page)",
            "zh": "按自定义情景模拟某组的设计（网页）",
        },
        "report.read": {
            "en": "read trial reports of every site (DSMB, ClinicalTrials.gov)",
            "zh": "查看所有中心的试验报告（DSMB、ClinicalTrials.gov）",
        },
        "query.read": {"en": "read data queries", "zh": "查看数据质疑"},
        "query.raise": {
            "en": "raise data queries on a record's field, and close or re-open them",
            "zh": "对记录字段提出数据质疑，并关闭或重新打开质疑",
        },
        "query.answer": {"en": "answer data queries", "zh": "回复数据质疑"},
    },
    "worklist_kind": {
        "readjudication": {"en": "readjudication", "zh": "重新判定"},
        "dlt_adjudication": {"en": "dlt_adjudication", "zh": "DLT 判定"},
        "signature": {"en": "signature", "zh": "签名"},
        "dose_decision": {"en": "dose_decision", "zh": "剂量决策"},
        "visit": {"en": "visit", "zh": "访视"},
        "bor_assessment": {"en": "bor_assessment", "zh": "最佳总体疗效评估"},
        "query": {"en": "query", "zh": "数据质疑"},
    },
    "point": {
        "birth": {"en": "the participant's year of birth", "zh": "受试者出生年份"},
        "registration": {"en": "the participant's registration", "zh": "受试者登记日期"},
        "consent": {"en": "the participant's consent", "zh": "受试者知情同意日期"},
        "screening": {"en": "the participant's first screening", "zh": "受试者首次筛选日期"},
        "enrollment": {"en": "the participant's enrolment", "zh": "受试者入组日期"},
        "lymphodepletion": {
            "en": "the end of the lymphodepleting regimen",
            "zh": "清淋方案结束日期",
        },
        "infusion": {"en": "the infusion (study day 0)", "zh": "回输日期（研究第 0 天）"},
    },
    "what": {
        "the dose assignment": {"en": "the dose assignment", "zh": "剂量分配日期"},
        "start_on": {"en": "start_on", "zh": "开始日期"},
        "the product release": {"en": "the product release", "zh": "产品放行日期"},
        "the onset": {"en": "the onset", "zh": "发生日期"},
        "the screening": {"en": "the screening", "zh": "筛选日期"},
    },
    "status": {
        "proposed": {"en": "proposed", "zh": "待确认"},
        "confirmed": {"en": "confirmed", "zh": "已确认"},
        "superseded": {"en": "superseded", "zh": "已被取代"},
        "cancelled": {"en": "cancelled", "zh": "已取消"},
        "open": {"en": "open", "zh": "未解决"},
        "answered": {"en": "answered", "zh": "已回复"},
        "closed": {"en": "closed", "zh": "已关闭"},
        "unresolved": {"en": "unresolved", "zh": "未关闭（未解决或已回复）"},
        "dlt": {"en": "dlt", "zh": "DLT"},
        "no_dlt": {"en": "no_dlt", "zh": "无 DLT"},
        "pending": {"en": "pending", "zh": "待定"},
        "not_evaluable": {"en": "not_evaluable", "zh": "不可评价"},
    },
    "kind": {
        "answer": {"en": "answer", "zh": "回复"},
        "close": {"en": "close", "zh": "关闭"},
        "reopen": {"en": "reopen", "zh": "重新打开"},
    },
    "arm_phase": {
        "phase1": {"en": "phase1", "zh": "第一阶段"},
        "phase2": {"en": "phase2", "zh": "第二阶段"},
        "closed": {"en": "closed", "zh": "已关闭状态"},
    },
    "limit_name": {
        "phase 1 maximum": {"en": "phase 1 maximum", "zh": "第一阶段最大样本量"},
        "phase 2 size": {"en": "phase 2 size", "zh": "第二阶段样本量"},
    },
    "state": {
        "complete": {"en": "complete", "zh": "完整"},
        "incomplete": {"en": "incomplete", "zh": "不完整"},
        "voided": {"en": "voided", "zh": "已作废"},
    },
    "void": {
        "": {"en": "", "zh": ""},
        ", void it": {"en": ", void it", "zh": "、将其作废"},
    },
    "report": {
        "dsmb": {"en": "DSMB safety report", "zh": "DSMB 安全性报告"},
        "ctgov": {
            "en": "ClinicalTrials.gov results section",
            "zh": "ClinicalTrials.gov 结果部分",
        },
        "sdtm": {"en": "CDISC SDTM datasets", "zh": "CDISC SDTM 数据集"},
        "odm": {
            "en": "CDISC ODM XML (clinical data and audit trail)",
            "zh": "CDISC ODM XML（临床数据与稽查轨迹）",
        },
    },
    "record": {
        "released product": {"en": "released product", "zh": "已放行产品记录"},
        "lymphodepleting regimen": {"en": "lymphodepleting regimen", "zh": "清淋方案记录"},
        "infusion": {"en": "infusion", "zh": "回输记录"},
    },
    "part": {
        "crs": {"en": "crs", "zh": "CRS"},
        "icans": {"en": "icans", "zh": "ICANS"},
    },
    "syndrome": {
        "CRS": {"en": "CRS", "zh": "CRS"},
        "ICANS": {"en": "ICANS", "zh": "ICANS"},
    },
}

#: How the fields an error names read in Chinese (English shows the field's own name).
FIELDS: Final[dict[str, str]] = {
    "study_id": "研究编号",
    "arm_id": "组别",
    "site_id": "中心",
    "action": "操作",
    "user": "用户",
    "year_of_birth": "出生年份",
    "registered_on": "登记日期",
    "screened_on": "筛选日期",
    "enrolled_on": "入组日期",
    "consent_on": "知情同意日期",
    "consent_version": "知情同意书版本",
    "consent_id": "知情同意记录",
    "correction_reason": "更正理由",
    "age_years": "年龄（岁）",
    "reason": "理由",
    "reason_code": "原因",
    "off_study_on": "退出研究日期",
    "category": "类别",
    "description": "描述",
    "deviation.reason": "偏离理由",
    "not_evaluable_reason": "不可评价原因",
    "rationale": "判定理由",
    "evaluable": "可评价",
    "final": "最终判定",
    "password": "密码",
    "version": "版本",
    "wait_until": "等待至",
    "grade": "分级",
    "crs": "CRS 组成项",
    "icans": "ICANS 组成项",
    "onset_on": "发生日期",
    "resolved_on": "缓解日期",
    "released_on": "放行日期",
    "start_on": "开始日期",
    "end_on": "结束日期",
    "infused_on": "回输日期",
    "infused_volume_ml": "回输体积（mL）",
    "regimen": "清淋方案",
    "assessed_on": "评估日期",
    "marrow": "骨髓评估",
    "n": "例数",
    "kind": "操作",
    "status": "状态",
    "field": "字段",
    "record_type": "记录类型",
    "record_id": "记录",
    "query_id": "质疑",
    "event_id": "不良事件",
    "username": "用户名",
    "full_name": "姓名",
    "participants": "受试者",
    "arms": "组别",
    "sort": "排序",
    "limit": "每页条数",
    "offset": "起始位置",
    "phase": "阶段",
    "text": "内容",
    "question": "问题",
    "answer": "回复",
    "kind_of_report": "报告",
    "csrf_token": "表单令牌",
    "X-CSRF-Token": "CSRF 令牌",
    "outcomes": "结局序列",
    "role": "角色",
    "database": "数据库",
    "lang": "语言",
    "out": "输出文件",
    "file": "文件",
    "input": "输入",
}

_LIST_SEPARATOR: Final[dict[Lang, str]] = {"en": ", ", "zh": "、"}


def known_refusal(code: object) -> bool:
    """Whether ``code`` is a refusal code of this catalog."""
    return isinstance(code, str) and code in REFUSALS


def _words(name: str, value: Any, lang: Lang) -> Any:
    choices = CHOICES.get(name)
    if choices is not None and str(value) in choices:
        return choices[str(value)][lang]
    if isinstance(value, Mapping):
        return str(value.get("reason") or "")
    if isinstance(value, (list, tuple)):
        return _LIST_SEPARATOR[lang].join(str(_words(name, v, lang)) for v in value)
    return value


def render(code: str, params: Mapping[str, Any], lang: Lang = "en") -> str:
    """The words of refusal ``code`` with ``params`` in ``lang`` (``KeyError`` if unknown).

    A mapping parameter (a step of the arm state) shows its English ``reason`` here; callers
    with a renderer of steps pass the parameter already in words. The allowed values of a
    ``one_of`` (``choices``) read in words when ``choice_of`` names their catalog in
    :data:`CHOICES` (in English they stay the codes one types).
    """
    template = REFUSALS[code][lang]
    catalog = params.get("choice_of")
    words = {k: _words(k, v, lang) for k, v in params.items()}
    if "choices" in params and isinstance(catalog, str) and catalog in CHOICES and lang != "en":
        words["choices"] = _words(catalog, params["choices"], lang)
    return template.format(**words)


def refusal(cls: type[E], field: str, value: Any, code: str, /, **params: Any) -> E:
    """An error of class ``cls`` about ``field=value`` whose rule is refusal ``code``."""
    return cls(field, value, render(code, params, "en"), reason_code=code, reason_params=params)


def subject(field: str, value: Any, lang: Lang) -> str:
    """What an error is about, as it heads the message: ``study_id='S01-0001'`` in English,
    ``研究编号「S01-0001」`` in Chinese (a field without Chinese words shows its value only)."""
    if lang == "en":
        return field if value is None else f"{field}={value!r}"
    name = FIELDS.get(field, "")
    if value is None:
        return name
    return f"{name}「{value}」"


def joined(items: Sequence[str], lang: Lang) -> str:
    return _LIST_SEPARATOR[lang].join(items)


def headed(head: str, text: str, lang: Lang) -> str:
    """``head: text`` (``head：text`` in Chinese); ``text`` alone when there is no head."""
    if not head:
        return text
    return f"{head}: {text}" if lang == "en" else f"{head}：{text}"


__all__ = [
    "CHOICES",
    "FIELDS",
    "REFUSALS",
    "as_reason",
    "headed",
    "joined",
    "known_refusal",
    "refusal",
    "render",
    "subject",
]


def as_reason(step: Any) -> dict[str, Any]:
    """A step of the arm state (or anything with ``reason``, ``reason_code`` and
    ``reason_params``) as a parameter: rendered in the page's language where it has a code."""
    return {
        "reason_code": getattr(step, "reason_code", None) or None,
        "reason_params": dict(getattr(step, "reason_params", None) or {}),
        "reason": str(getattr(step, "reason", "") or ""),
    }
