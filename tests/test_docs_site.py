"""The built documentation site, opened in a real headless browser.

The site is built by README's docs command (CI runs it before the tests):
``python -m sphinx -W -b html docs docs/_build/html``. The test opens it in
Debian's Chromium through its ChromeDriver (packages ``chromium`` and
``chromium-driver``, which CI installs) and checks that every gallery page
shows its images and that the API pages list both estimators. Without the
site, the browser or Selenium (the ``docs`` extra), it is skipped with the
reason.
"""

import shutil
import time
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"
GALLERY = sorted((Path(__file__).resolve().parents[1] / "docs" / "examples").glob("plot_*.py"))


def _browser():
    if not (SITE / "index.html").exists():
        pytest.skip(
            f"the documentation is not built at {SITE}: run "
            "python -m sphinx -W -b html docs docs/_build/html"
        )
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (the docs extra)"
    )
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("Chromium and its ChromeDriver are not installed "
                    "(apt-get install chromium chromium-driver)")  # fmt: skip
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"):  # fmt: skip
        options.add_argument(flag)
    options.add_argument("--window-size=1400,6000")  # lazy images in view
    service = webdriver.ChromeService(executable_path=driver)
    return webdriver.Chrome(options=options, service=service)


@pytest.fixture(scope="module")
def browser():
    chrome = _browser()
    yield chrome
    chrome.quit()


# Whether every <img> of the page has loaded a picture of non-zero size.
IMAGES = """
return Array.from(document.images).map(
    img => [img.getAttribute('src'), img.complete && img.naturalWidth > 0]);
"""


def _images(browser, page, timeout=15.0):
    """(src, loaded) of every image of ``page``, once there are images and
    all have loaded, or ``timeout`` seconds have passed."""
    browser.get(page.as_uri())
    deadline = time.monotonic() + timeout
    while True:
        images = browser.execute_script(IMAGES)
        done = images and all(loaded for _, loaded in images)
        if done or time.monotonic() > deadline:
            return images
        time.sleep(0.1)


@pytest.mark.parametrize("example", [p.stem for p in GALLERY])
def test_each_gallery_page_shows_its_images(browser, example):
    images = _images(browser, SITE / "auto_examples" / f"{example}.html")
    figures = [src for src, _ in images if "sphx_glr_" + example in (src or "")]
    assert figures, f"{example}: no figure on the page"
    assert all(loaded for _, loaded in images), images


def test_the_gallery_index_shows_every_thumbnail(browser):
    images = _images(browser, SITE / "auto_examples" / "index.html")
    thumbnails = [src for src, loaded in images if "_thumb" in (src or "") and loaded]
    assert len(thumbnails) == len(GALLERY), images


def test_the_api_pages_list_both_estimators(browser):
    browser.get((SITE / "api.html").as_uri())
    text = browser.find_element("tag name", "body").text
    assert "BackpropRegressor" in text and "BackpropClassifier" in text
    for name in ("BackpropRegressor", "BackpropClassifier"):
        browser.get((SITE / "generated" / f"fastbp.{name}.html").as_uri())
        page = browser.find_element("tag name", "body").text
        assert name in page and "predict" in page and "hidden_layer_sizes" in page
