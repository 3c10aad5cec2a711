"""Every Chinese character on a page is drawn with a CJK font, on a machine that has none.

This machine's Chromium has no system CJK font (``fc-list :lang=zh`` is empty), so Chinese is
drawn only through the app's web font (``/fonts/cjk``). A CJK ideograph drawn by a CJK font is
one em wide; an empty box (a Latin font's missing-glyph) is about 0.6 em. The test measures the
laid-out width of every visible ideograph on Chinese pages (a DOM range per character) and fails
on any that is not one em: with the web font listed after ``system-ui``/``DejaVu Sans`` the
header's 中文, the headings and the table heads were boxes while the rest rendered.
"""

from __future__ import annotations

from typing import Any

from e2e_helpers import sign_in
from playwright.sync_api import Page

#: Per visible Han character: its laid-out width against the element's font size.
WIDTHS_JS = """
() => {
  const boxes = [];
  let drawn = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !el.checkVisibility()) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    const text = node.nodeValue;
    for (let i = 0; i < text.length; i++) {
      if (!/[\\u3400-\\u4dbf\\u4e00-\\u9fff]/.test(text[i])) continue;
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const width = range.getBoundingClientRect().width;
      if (width === 0) continue;
      drawn++;
      if (Math.abs(width - size) > 0.1 * size) {
        boxes.push(`${el.tagName.toLowerCase()} ${text[i]} ${width.toFixed(1)}/${size}px`);
      }
    }
  }
  return {drawn, boxes};
}
"""

PAGES = ("/trial", "/trial/arms/prior_sct_donor", "/participants", "/dsmb")


def _widths(page: Page, path: str) -> dict[str, Any]:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    found: dict[str, Any] = page.evaluate(WIDTHS_JS)
    return found


def test_every_chinese_character_is_drawn_with_a_cjk_font(page: Page) -> None:
    sign_in(page, "stat")
    page.goto("/lang/zh_CN?next=/trial")
    try:
        for path in PAGES:
            found = _widths(page, path)
            assert found["drawn"] > 20, (path, found)
            assert not found["boxes"], f"{path}: empty boxes {found['boxes'][:20]}"
        families = page.evaluate("[...document.fonts].map(f => `${f.family} ${f.status}`)")
        assert '"dosewise CJK" loaded' in families or "dosewise CJK loaded" in families
    finally:
        page.goto("/lang/en?next=/trial")


def test_english_pages_load_no_cjk_font_beyond_the_language_switch(page: Page) -> None:
    """An English page has one Chinese word (the switch's 中文): it is drawn, not a box."""
    sign_in(page, "stat")
    page.goto("/lang/en?next=/trial")
    found = _widths(page, "/trial")
    assert found["drawn"] == 2 and not found["boxes"], found
