"""A language test that crawls: every page of the demo trial in Chinese, for every role.

Signed in as each role of tests/pg.py (``USERS``) with 中文 chosen, the browser visits every
page of :data:`PAGES` (add a new page there) plus each arm and one participant of each status,
and on each page submits every form that has required fields, one at a time with its fields
emptied (the error state: form errors and the services' refusals). Site users also open pages
their role or site may not see (the 403 page and its rule) and an unknown participant (404).
Every visible text is read (closed ``<details>`` opened) and any word in Latin letters outside
:data:`ALLOWED` fails the test. The same check runs on the text (``pdftotext``) of the Chinese
DSMB and design reports. In English, no Chinese may show outside names (the switch's 中文, and
Chinese names marked ``lang="zh"``).

Exempt by markup: ``<code>`` (the outcome notation, rule ids, the protocol file, the audit
trail's recorded values), English CTCAE terms (``class="en-term"``, with an "(English CTCAE
term)" note) and English quoted from an English-only source (``class="en-source"``, with an
"(English original)" note: the registry's titles; in the protocol file's Chinese reasons, the
English names they quote).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_helpers import sign_in
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from demo_trial import DemoTrial
from dosewise.store.tables import Arm, Participant, User
from pg import USERS, add_test_users

#: Latin-letter words a Chinese page may show: abbreviations the protocol and CTCAE use in
#: Chinese too, units, the protocol's dose names, drug names and the sign-in names.
ALLOWED = frozenset(
    {
        # clinical and design abbreviations
        *("CRS", "ICANS", "DLT", "DLTs", "OBD", "RP2D", "MTD", "CTCAE", "BOR", "CR", "CRi"),
        *("MRD", "BOIN12", "TITE-BOIN12", "BOIN", "BOP2", "ASTCT", "CAR-T", "CD5", "AE", "SAE"),
        *("CAR", "SCT", "GVHD", "HTML", "I", "II", "Pr", "n", "N2", "dosewise", "E", "T", "RDS"),
        *("HIV", "MRI", "MFI", "PBMC", "BUN", "CAPD", "TNC", "CD3+", "CAR+", "GCS"),
        *("CDISC", "SAS", "XPT", "ZIP", "ClinicalTrials.gov", "REST", "API"),
        *("ECOG", "ALL", "LBL", "T-ALL", "T-LBL", "HLA", "ANC", "CNS", "PDF", "CSV", "XML"),
        *("JSON", "SDTM", "ODM", "ID", "NCT", "DSMB", "ICF", "ICE", "v5.0", "v4.03", "MedDRA"),
        *("BM", "CSF", "ULN", "AIDS", "CD5+", "OC", "CPAP", "BiPAP", "DV", "N"),
        # response categories, written beside their Chinese words
        *("PR", "SD", "NR", "PD", "NE"),
        # units
        *("kg", "mL", "L", "mg", "g", "dL", "m²", "h", "min", "µL", "UTC", "IU", "U"),
        *("mmol", "µmol"),
        # dose names (DL-1, DL1, DL2 are matched as tokens too)
        *("DL-1", "DL1", "DL2", "DL3"),
        # drug names
        *("fludarabine", "cyclophosphamide", "tocilizumab", "dexamethasone"),
        # the e-signature meaning's signer names and the site's user names
        *USERS,
        "Test",
        "English",  # the language switch writes each language in itself
    }
)
#: Study ids, lot numbers, registry ids and e-mail addresses are taken out before the check.
IDS = re.compile(
    r"\b(?:CD5-)?S\d{2}-\d{4}\b|\bNCT\d{8}\b|\b[\w.]+@[\w.]+\b|\bS\d{2}\b|\bA\d{1,2}\b"
    r"|\bUTC[+-]\d{1,2}(?::\d\d)?|[λφ][A-Za-z]+|\bp_[ET]\b"
    # time zones, user names (``crc.s01``), °C, 2.0e8, versions, API paths
    r"|\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b|\b[a-z]+\.[a-z0-9]+\b|°C|\b\d+(?:\.\d+)?e\d+\b"
    r"|\b\d+(?:\.\d+)+-\w+\b|/api/\S+"
    # numbers with an exponent (1e-3, 7.13e+07), versions (v1.0), the design's symbols
    # (c_T, n_earlystop, u(0,1), N*)
    r"|\b\d+(?:\.\d+)?e[+-]?\d+\b|\bv\d+(?:\.\d+)*\b|\b(?:c_[TE]|u_b|n_earlystop)\b|\bu\(\d,\d\)"
    r"|\bN\*"
)
LATIN = re.compile(r"[A-Za-zµ][A-Za-z0-9µ²+\-.]*")
HAN = re.compile(r"[\u3400-\u9fff]")

TEXT_JS = """
(skipZh) => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const el = node.parentElement;
    const text = node.textContent.trim();
    if (!el || !text) continue;
    if (el.closest('script,style,noscript,template,code,.en-term,.en-source')) continue;
    if (skipZh && el.closest('[lang|=zh]')) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    out.push(text);
  }
  document.querySelectorAll('input[placeholder],textarea[placeholder]').forEach(
    el => { if (el.checkVisibility()) out.push(el.placeholder); });
  return out;
}
"""

#: Every form on the page (closed ``<details>`` opened) that has a required field.
FORMS_JS = """
() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  return [...document.querySelectorAll('form[method=post], form[method=POST]')].filter(
    f => f.checkVisibility() && f.querySelector(
      'input[required]:not([type=hidden]),select[required],textarea[required]')).length;
}
"""

#: Submit the ``i``-th such form with its fields emptied (the browser's own checks off).
EMPTY_SUBMIT_JS = """
(i) => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const forms = [...document.querySelectorAll('form[method=post], form[method=POST]')].filter(
    f => f.checkVisibility() && f.querySelector(
      'input[required]:not([type=hidden]),select[required],textarea[required]'));
  const form = forms[i];
  if (!form) return false;
  form.noValidate = true;
  form.querySelectorAll('input:not([type=hidden]):not([type=submit]),textarea').forEach(el => {
    if (el.type === 'checkbox' || el.type === 'radio') el.checked = false; else el.value = '';
  });
  form.querySelectorAll('select').forEach(el => { el.selectedIndex = -1; });
  form.requestSubmit ? form.requestSubmit() : form.submit();
  return true;
}
"""


def latin_words(texts: list[str], names: tuple[str, ...] = ()) -> list[str]:
    """The Latin-letter words in ``texts`` that the allow-list (or ``names``) does not name."""
    found = []
    for text in texts:
        for name in names:
            text = text.replace(name, " ")
        for word in LATIN.findall(IDS.sub(" ", text)):
            word = word.rstrip(".-")
            if word and word not in ALLOWED and not re.fullmatch(r"[A-Z]?\d+[a-z]?", word):
                found.append(word)
    return found


def user_names(demo_db: DemoTrial) -> tuple[str, ...]:
    """Every user's sign-in and printed name (names are shown as they are)."""
    with demo_db.db.sessions() as session:
        rows = session.execute(select(User.username, User.full_name)).all()
    names = {n for row in rows for n in row if n}
    return tuple(sorted(names, key=len, reverse=True))  # longest first: "stat.demo" before "stat"


def han_outside_names(texts: list[str]) -> list[str]:
    return [t for t in texts if HAN.search(t.replace("中文", ""))]


@pytest.fixture(scope="module")
def demo_server(demo_db: DemoTrial) -> Iterator[str]:
    """``dosewise serve`` on the demo trial (with the test users added)."""
    with demo_db.db.sessions() as session:
        known = set(session.scalars(select(Participant.study_id)))
    assert known
    add_test_users(demo_db.db, demo_db.settings)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {
        **os.environ,
        "DOSEWISE_DATABASE_URL": demo_db.url,
        "DOSEWISE_ARGON2_TIME_COST": "1",
        "DOSEWISE_ARGON2_MEMORY_KIB": "8",
        "DOSEWISE_ARGON2_PARALLELISM": "1",
    }
    command = [sys.executable, "-c", "from dosewise.cli.app import main; main()"]
    proc = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


#: The pages of the web app every crawl visits (each arm and one participant of each status
#: are added from the database). A new page goes here.
PAGES = (
    "/trial",
    "/participants",
    "/dsmb",
    "/reports",
    "/protocol",
    "/tools",
    "/audit",
    "/queries",
    "/deviations",
    "/admin/users",
    "/account/password",
)
#: What a site user may not see (the 403 page, naming the rule) and an unknown study ID (404).
REFUSED = ("/dsmb", "/admin/users", "/participants/S01-9999")


def _pages(demo_db: DemoTrial) -> list[str]:
    with demo_db.db.sessions() as session:
        rows = session.execute(
            select(Participant.study_id, Participant.status).order_by(Participant.study_id)
        ).all()
        arms = list(session.scalars(select(Arm.id).order_by(Arm.id)))
    by_status: dict[str, str] = {}
    for study_id, status in rows:
        by_status.setdefault(status, study_id)
    return [
        *PAGES[:1],
        *(f"/trial/arms/{a}" for a in arms),
        *PAGES[1:2],
        *(f"/participants/{s}" for s in by_status.values()),
        *PAGES[2:],
    ]


def _settled_text(page: Page) -> list[str]:
    """The page's text once a form post (a navigation or an htmx swap) has settled."""
    for _ in range(20):
        page.wait_for_timeout(150)
        try:
            page.wait_for_load_state()
            texts: list[str] = page.evaluate(TEXT_JS, False)
            return texts
        except PlaywrightError:
            continue
    raise AssertionError(f"{page.url} did not settle after the form post")


def _visit(page: Page, base: str, path: str, *, skip_zh: bool = False) -> list[str]:
    """The visible text of ``path`` (``skip_zh``: without elements marked Chinese)."""
    page.goto(base + path)
    texts: list[str] = page.evaluate(TEXT_JS, skip_zh)
    return texts


#: Who crawls what: the statistician every page, an investigator the participants (and their
#: forms), the administrator the user pages; every other role its own pages' common part and
#: the pages it is refused.
FULL = ("stat", "inv1", "admin1")
SHORT = ("/trial", "/participants", "/queries", "/account/password", *REFUSED)

#: What the crawl still finds, by page prefix, to be translated (None: the page is not checked).
#: A word not listed fails the test; remove words as their texts are translated. Empty: every
#: page reads in Chinese.
KNOWN_GAPS: dict[str, frozenset[str] | None] = {}

#: Pages not checked for Chinese in English (none: Chinese names are marked ``lang="zh"``).
ENGLISH_UNCHECKED: tuple[str, ...] = ()

#: The part of each Chinese PDF checked so far, from its heading to the next one: the DSMB
#: report's dose decisions (reasons and plain summaries). The rest (English AE and MedDRA
#: names, the design report's references and assumptions) is still to be translated.
PDF_SECTIONS = {"dsmb": ("8. 迄今的剂量决策", "9. "), "design": None}


def _gap(path: str) -> frozenset[str] | None:
    """The known English words of every prefix the path starts with (None: not checked)."""
    found: set[str] = set()
    for prefix, words in KNOWN_GAPS.items():
        if path.startswith(prefix):
            if words is None:
                return None
            found |= words
    return frozenset(found)


def test_every_page_reads_in_chinese_for_every_role(
    browser: Browser, demo_server: str, demo_db: DemoTrial
) -> None:
    paths = _pages(demo_db)
    names = user_names(demo_db)
    findings: dict[str, set[str]] = {}
    forms_tried: set[str] = set()

    def check(path: str, texts: list[str]) -> None:
        known = _gap(path.split(" ")[0])
        if known is None:
            return
        words = set(latin_words(texts, names)) - known
        if words:
            findings.setdefault(path, set()).update(words)

    for username in USERS:
        context = browser.new_context(base_url=demo_server, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            sign_in(page, username)
            page.goto(demo_server + "/lang/zh_CN?next=/account/password")
            for path in paths if username in FULL else SHORT:
                check(path, _visit(page, demo_server, path))
                count = 0 if path in forms_tried else int(page.evaluate(FORMS_JS))
                forms_tried.add(path)
                for i in range(count):
                    if i:
                        _visit(page, demo_server, path)
                    if page.evaluate(EMPTY_SUBMIT_JS, i):
                        check(f"{path} (form {i + 1} errors)", _settled_text(page))
            page.goto(demo_server + "/lang/en?next=/account/password")
        finally:
            context.close()
    report = "\n".join(f"{p}: {sorted(w)[:60]}" for p, w in sorted(findings.items()))
    assert not findings, f"Latin words on Chinese pages:\n{report}"


def test_english_pages_show_no_chinese(
    browser: Browser, demo_server: str, demo_db: DemoTrial
) -> None:
    context = browser.new_context(base_url=demo_server, locale="en-US")
    page = context.new_page()
    findings: dict[str, list[str]] = {}
    try:
        for username in ("stat", "admin1"):
            sign_in(page, username)
            page.goto(demo_server + "/lang/en?next=/account/password")
            for path in _pages(demo_db):
                if path in ENGLISH_UNCHECKED:
                    continue
                chinese = han_outside_names(_visit(page, demo_server, path, skip_zh=True))
                if chinese:
                    findings[path] = chinese
            page.get_by_role("button", name="Sign out").click()
    finally:
        context.close()
    assert not findings, f"Chinese on English pages: {findings}"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) not installed")
@pytest.mark.parametrize("kind", ["dsmb", "design"])
def test_chinese_pdfs_read_in_chinese(
    browser: Browser, demo_server: str, kind: str, tmp_path: Path
) -> None:
    context = browser.new_context(base_url=demo_server, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, "stat")
        response = page.request.get(
            f"{demo_server}/reports/{kind}/download?format=pdf&lang=zh", timeout=120_000
        )
        assert response.ok, response.text()[:500]
        pdf = tmp_path / f"{kind}.pdf"
        pdf.write_bytes(response.body())
    finally:
        context.close()
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert HAN.search(text), f"the Chinese {kind} PDF has no Chinese text"
    section = PDF_SECTIONS[kind]
    if section is None:  # the whole text is checked by tests/report/test_pdf_language.py
        return
    start, end = section
    assert start in text, f"no '{start}' in the {kind} PDF"
    part = text[text.index(start) : text.index(end, text.index(start))]
    notation = re.compile(r"\b\d?[NETB]{1,}\b")  # the outcome notation (2NEN 1E 3EB)
    lines = [notation.sub(" ", line) for line in part.splitlines() if line.strip()]
    words = set(latin_words(lines))
    assert not words, f"Latin words in the Chinese {kind} PDF's decisions: {sorted(words)[:60]}"
