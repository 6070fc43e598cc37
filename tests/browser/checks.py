"""Checks shared by the browser tests: axe-core finds nothing, the Nu HTML checker finds no error, and a
page reflows at 320 px."""

from playwright.sync_api import expect

#: The session's Nu HTML checker (tests/browser/nu.py), set by the browser conftest.
NU = None
#: Documents already checked (by their text): a page state seen twice is checked once.
_CHECKED: set[int] = set()


def assert_valid_html(page) -> None:
    """The Nu HTML checker finds no error in the page as it stands (the document the person sees)."""
    html = page.content()
    key = hash(html)
    if NU is None or key in _CHECKED:
        return
    errors = NU.errors(html)
    assert not errors, f"the Nu HTML checker found {len(errors)} error(s) on {page.url}:\n" + "\n".join(errors)
    _CHECKED.add(key)


def _describe(violations: list[dict]) -> str:
    """Axe violations as readable lines: rule id, impact, help, then each offending element."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            summary = (node.get("failureSummary") or "").replace("\n", " | ")
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


def assert_accessible(page, axe_path) -> None:
    """axe-core finds no violations, the Nu HTML checker no error; the page has one h1 and one main landmark."""
    if not page.evaluate("() => typeof axe === 'object'"):
        assert_valid_html(page)  # before axe's own script is added to the document
        page.add_script_tag(path=str(axe_path))
    violations = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")["violations"]
    assert not violations, f"axe found {len(violations)} violation(s) on {page.url}:\n{_describe(violations)}"
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)


_WIDER_THAN_THE_WINDOW = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return [];
  const clipped = el => {  // inside a box that scrolls or clips it: that box is checked instead
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement)
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    return false;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > root.clientWidth + 0.5 && !el.closest('.visually-hidden') && !clipped(el))
      wide.push(`<${el.tagName.toLowerCase()} class="${el.className.baseVal ?? el.className}"> ends at ${Math.round(box.right)}px: `
        + (el.textContent || '').trim().slice(0, 50));
  }
  return wide.length ? wide.slice(0, 8) : [`the page is ${root.scrollWidth}px wide, but no single element is`];
}"""


def assert_reflows(page, axe_path) -> None:
    """At 320 CSS pixels wide (WCAG 1.4.10) the page still passes axe and never scrolls sideways."""
    page.set_viewport_size({"width": 320, "height": 800})
    assert_accessible(page, axe_path)
    wider = page.evaluate(_WIDER_THAN_THE_WINDOW)
    assert not wider, f"{page.url} scrolls sideways at 320px wide; too wide:\n" + "\n".join(wider)
