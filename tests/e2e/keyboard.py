"""Driving a page with the keyboard alone, as a person who uses no mouse does: Tab / Shift+Tab
from one control to the next, and at each stop a check that the focus can be seen.

"Can be seen" is measured, not read from CSS: the box around the focused element (a few pixels
wider, where rings and outlines are drawn) is photographed focused, then with the focus moved
to an off-screen sentinel, and the two pictures must differ (WCAG 2.4.7). Streamlit draws some
of its rings on a wrapper (inputs) or as a box-shadow, which a computed-style check would miss."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageChops
from playwright.sync_api import Page

# A focus ring's changed pixels: a 1 px line around a 20×20 control is about 80.
MIN_CHANGED_PIXELS = 40
_PAD = 4

_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  // Where a control draws its ring: Streamlit's inputs and lists on their wrapper, a radio or
  // a checkbox (a hidden input) on its label.
  const box = e.closest('[data-baseweb="select"], [data-testid="stMultiSelect"], [data-testid="stDateInputField"], '
    + '[data-testid="stDataFrameResizable"]')
    || e.closest('[data-baseweb="input"], [data-baseweb="textarea"], label') || e;
  const r = box.getBoundingClientRect();
  const parts = [];
  for (let p = e; p; p = p.parentElement) if (p.dataset && p.dataset.testid) parts.push(p.dataset.testid);
  const name = e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].innerText)
    || (e.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 60);
  return {tag: e.tagName, role: e.getAttribute('role') || '', name, href: e.getAttribute('href') || '',
          value: e.value === undefined ? '' : String(e.value), part: parts[0] || '', sentinel: e.id === 'kbd-sentinel',
          x: r.left, y: r.top, width: r.width, height: r.height};
}"""

_TO_SENTINEL = """() => {
  let s = document.getElementById('kbd-sentinel');
  if (!s) {
    s = document.createElement('button');
    s.id = 'kbd-sentinel'; s.tabIndex = -1; s.textContent = '·';
    s.style.cssText = 'position:fixed;left:-500px;top:0;width:10px;height:10px';
    document.body.appendChild(s);
  }
  window.__kbdFocused = document.activeElement;
  s.focus({preventScroll: true});
}"""
_BACK = "() => window.__kbdFocused.focus({preventScroll: true})"


@dataclass(frozen=True)
class Stop:
    tag: str
    role: str
    name: str
    href: str
    value: str
    part: str

    def __str__(self) -> str:
        where = f" [{self.part}]" if self.part else ""
        return f"{self.tag.lower()}{'/' + self.role if self.role else ''} {self.name!r}{where}"


class Keyboard:
    """One person's keyboard on one page: every stop is recorded, and every stop's focus checked."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops: list[Stop] = []
        self.unseen: list[str] = []  # stops whose focus could not be seen

    def focused(self) -> Stop | None:
        found = self.page.evaluate(_FOCUSED)
        if not found:
            return None
        return Stop(found["tag"], found["role"], found["name"], found["href"], found["value"], found["part"])

    def press(self, key: str, wait: int = 60) -> None:
        self.page.keyboard.press(key)
        self.page.wait_for_timeout(wait)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=20)

    def tab_to(self, wanted, *, back: bool = False, limit: int = 120) -> Stop:
        """Tab (Shift+Tab with `back`) until `wanted(stop)` holds; fails with the path taken when
        the focus goes round (a trap) or `limit` presses do not reach it (not reachable)."""
        path: list[Stop] = []
        for _ in range(limit):
            self.press("Shift+Tab" if back else "Tab")
            stop = self.focused()
            if stop is None:  # the browser's own chrome between the page's last stop and its first
                continue
            self.check_visible(stop)
            path.append(stop)
            self.stops.append(stop)
            if wanted(stop):
                return stop
            if len(path) > 3 and path.count(stop) > 2:
                raise AssertionError("the focus goes round without reaching it (a trap?): "
                                     + " → ".join(map(str, path[-12:])))
        raise AssertionError(f"not reached in {limit} presses: " + " → ".join(map(str, path[-12:])))

    def check_visible(self, stop: Stop) -> None:
        changed = changed_pixels(self.page)
        if changed is not None and changed < MIN_CHANGED_PIXELS:
            self.unseen.append(f"{stop} ({changed} px change)")


def changed_pixels(page: Page) -> int | None:
    """Pixels around the focused element that change when the focus leaves it (None when it is
    out of the window, as a stop inside a closed menu is)."""
    box = page.evaluate(_FOCUSED)
    viewport = page.viewport_size
    x0, y0 = max(0, box["x"] - _PAD), max(0, box["y"] - _PAD)
    x1 = min(viewport["width"], box["x"] + box["width"] + _PAD)
    y1 = min(viewport["height"], box["y"] + box["height"] + _PAD)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    clip = {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}
    focused = Image.open(io.BytesIO(page.screenshot(clip=clip, animations="disabled"))).convert("L")
    page.evaluate(_TO_SENTINEL)
    page.wait_for_timeout(120)  # Streamlit's rings fade in and out
    left = Image.open(io.BytesIO(page.screenshot(clip=clip, animations="disabled"))).convert("L")
    page.evaluate(_BACK)
    page.wait_for_timeout(120)
    difference = ImageChops.difference(focused, left).point(lambda v: 255 if v > 48 else 0)
    return difference.histogram()[255]
