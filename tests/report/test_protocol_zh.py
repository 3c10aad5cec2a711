"""The Chinese design report takes the protocol's Chinese texts (arms, endpoints, unit, BOR
window) from the protocol file; the English report keeps the registry's English."""

from __future__ import annotations


def test_chinese_design_report_uses_the_protocol_files_chinese(html_zh: str, html_en: str) -> None:
    for text in (
        "自体 CD5 CAR-T 细胞、既往干细胞移植 (SCT) 供者来源 CD5 CAR-T 细胞",
        "CD5 CAR-T 细胞输注后 28 天内的 DLT",
        "至研究第 28 天达到 CR 或 CRi",
        "每千克体重的 CAR 阳性活 T 细胞数",
        "输注后 3 个月（± 1 周）",
    ):
        assert text in html_zh, text
    assert "Autologous CD5 CAR T-cells, Prior stem-cell transplantation" in html_en
    assert "CR or CRi (MRD-negative or not) by study day 28" in html_en
