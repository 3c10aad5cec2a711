"""The protocol's own words on the pages, in the page's language: arm, site, criterion, DLT rule,
signer, visit, AE term and e-signature meaning."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from dosewise.protocol import default_protocol
from dosewise.trial.esign import MEANING_TEXT
from dosewise.web.protocol_texts import SIGNATURE_MEANINGS, ProtocolTexts

ZH = ProtocolTexts(default_protocol(), "zh_CN")
EN = ProtocolTexts(default_protocol(), "en")


def test_protocol_texts_in_both_languages() -> None:
    assert ZH.arm("autologous") == "自体 CD5 CAR-T 细胞"
    assert EN.arm("autologous") == "Autologous CD5 CAR T-cells"
    assert ZH.arm("no_such_arm") == "no_such_arm"  # an old record never breaks a page
    assert ZH.site("Beijing GoBroad Hospital") == "北京高博医院"
    assert ZH.criterion("I5") == "ECOG 0–2" and "体能状态" in ZH.criterion("I5", "text")
    assert ZH.rule("related_death") == "任何与产品相关的死亡"
    assert ZH.signers(["patient", "guardian"]) == "患者、法定监护人"
    assert EN.signers(["patient", "guardian"]) == "patient, legal guardian"
    assert [ZH.visit(v) for v in default_protocol().visit_schedule()][2:7] == [
        "第 7 天",
        "第 14 天",
        "第 21 天",
        "第 28 天（DLT 观察期结束）",
        "第 2 个月",
    ]
    assert EN.visit("month_2") == "Month 2"
    assert ZH.meaning("approval") == "本人批准此记录"
    assert ZH.consent_missing("treatment consent form: guardian") == "治疗知情同意书：法定监护人"
    assert (
        EN.consent_missing("voluntary consent form: patient") == "voluntary consent form: patient"
    )
    assert (
        ZH.consent_missing("consent date is after screening") == "consent date is after screening"
    )


def test_ae_terms_are_chinese_or_marked_english() -> None:
    assert str(ZH.ae("Cytokine release syndrome")) == "细胞因子释放综合征"
    marked = str(ZH.ae("Hiccups"))
    assert 'lang="en"' in marked and "Hiccups" in marked and "CTCAE 英文术语" in marked
    assert str(EN.ae("Hiccups")) == "Hiccups"


def test_signature_meanings_are_the_services_meanings() -> None:
    assert SIGNATURE_MEANINGS == MEANING_TEXT


def test_chinese_pages_show_the_protocols_chinese(
    client: TestClient, signed_in: Callable[[str], str]
) -> None:
    signed_in("inv1")
    client.get("/lang/zh_CN", params={"next": "/trial"})
    overview = client.get("/trial").text
    assert "自体 CD5 CAR-T 细胞" in overview and "新配型供者来源 CD5 CAR-T 细胞" in overview
    protocol = client.get("/protocol").text
    assert "北京高博医院" in protocol and "复发/难治性 CD5+ T 细胞恶性肿瘤" in protocol
    assert "任何与产品相关的死亡" in protocol and "输注后 3 个月（± 1 周）" in protocol
    assert (
        "每千克体重的 CAR 阳性活 T 细胞数" in protocol
        and "CD5 CAR-T 细胞输注后 28 天内的 DLT" in protocol
    )
    # DL-1 (fallback_policy safety_only) is outside the dose finding, never "design dose 0"
    assert '<td class="design-dose" data-design-index="0">不在剂量探索内：仅安全性' in protocol
    client.get("/lang/en", params={"next": "/trial"})
    assert "Autologous CD5 CAR T-cells" in client.get("/trial").text
    protocol = client.get("/protocol").text
    assert (
        '<td class="design-dose" data-design-index="0">outside the dose finding: safety only'
        in protocol
    )
    assert '<td class="design-dose" data-design-index="1">1</td>' in protocol
