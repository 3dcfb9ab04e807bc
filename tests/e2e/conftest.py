import io
import os
import shutil

import pytest
from PIL import Image, ImageChops

# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make around
# it are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    # expect() waits 5 s by default: a poll every 3 s on a busy machine needs more than that.
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)

# Pages are drawn as for a visitor who asked for reduced motion (the studio's style sheet stops its
# animations then): a placeholder's shimmer or a spinner would otherwise be repainted sixty times a
# second while a test waits for a poll, a tenth of what the browser costs the suite.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--force-prefers-reduced-motion",
]


# Chromium's headless shell (Debian's chromium-headless-shell, what Playwright itself runs headless)
# draws the same pages as the full browser for about 60% of its CPU time; the full browser is
# the fallback.
BROWSERS = ("chromium-headless-shell", "chromium")


@pytest.fixture(scope="session")
def browser():
    chromium = next(filter(None, map(shutil.which, BROWSERS)), None)
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI: apt-get install chromium-headless-shell")
        pytest.skip("Chromium is not installed (apt-get install chromium-headless-shell); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


# Screenshots: set SCREENSHOTS=<folder> to keep a phone (390 px) and a desktop (1280 px) picture of
# every page a browser test passes through with `screens("name")`.
WIDTHS = (390, 1280)


@pytest.fixture
def screens(page):
    folder = os.environ.get("SCREENSHOTS")

    def take(name: str, *, on=None) -> None:
        if not folder:
            return
        on = on or page
        size = on.viewport_size
        os.makedirs(folder, exist_ok=True)
        for width in WIDTHS:
            on.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
            on.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            on.screenshot(path=os.path.join(folder, f"{name}-{width}.png"), full_page=True)
        on.set_viewport_size(size)

    return take


@pytest.fixture
def focus_shows():
    """Whether the keyboard focus can be seen: the focused element (or, for a visually hidden
    input, its label) looks different from the same element without focus, and the difference
    goes round it (an outline or a ring), not a sliver at one edge."""

    def focus_shows(page) -> bool:
        box = page.evaluate(
            """() => {
                const el = document.activeElement;
                const seen = rect => rect.width >= 4 && rect.height >= 4;  // not a visually hidden input
                const own = el.getBoundingClientRect();
                const labels = [...(el.labels || [])].map(label => label.getBoundingClientRect());
                const rects = seen(own) ? [own] : labels.filter(seen);
                if (!rects.length) return null;
                const left = Math.min(...rects.map(r => r.left)), top = Math.min(...rects.map(r => r.top));
                const right = Math.max(...rects.map(r => r.right)), bottom = Math.max(...rects.map(r => r.bottom));
                return {left, top, right, bottom};
            }"""
        )
        if box is None:
            return False
        size = page.viewport_size
        pad = 12  # outlines and rings sit just outside the element
        left, top = max(box["left"] - pad, 0), max(box["top"] - pad, 0)
        right, bottom = min(box["right"] + pad, size["width"]), min(box["bottom"] + pad, size["height"])
        if right - left < 1 or bottom - top < 1:
            return False
        clip = {"x": left, "y": top, "width": right - left, "height": bottom - top}
        focused = page.screenshot(clip=clip, caret="hide")
        page.evaluate("() => { window.focusShowsElement = document.activeElement; document.activeElement.blur(); }")
        blurred = page.screenshot(clip=clip, caret="hide")
        page.evaluate("() => window.focusShowsElement.focus()")
        changed = ImageChops.difference(
            Image.open(io.BytesIO(focused)).convert("RGB"), Image.open(io.BytesIO(blurred)).convert("RGB")
        ).getbbox()
        if changed is None:
            return False
        scale = Image.open(io.BytesIO(focused)).width / clip["width"]  # device pixels per CSS pixel
        width, height = (changed[2] - changed[0]) / scale, (changed[3] - changed[1]) / scale
        return width >= 0.5 * (box["right"] - box["left"]) and height >= 0.5 * (box["bottom"] - box["top"])

    return focus_shows
