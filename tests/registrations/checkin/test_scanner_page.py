"""The scanner page shell (/scan/) and its service worker: headers, CSP, only our own files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse
from PIL import Image
from whitenoise import WhiteNoise  # type: ignore[import-untyped]

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, list[str]]:
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        policy[name] = values
    return policy


def test_scanner_page_renders_in_dutch_with_its_csp(client):
    response = client.get("/scan/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert "<title>Scanner — toegangscontrole</title>" in html
    assert "Scan de koppelcode op het scherm van de organisator" in html
    assert 'id="main"' in html and "<header" in html
    policy = _csp(response)
    # WebAssembly (the QR decoder) may compile here; JavaScript eval stays forbidden.
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["worker-src"] == ["'self'"]
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_only_the_scanner_page_may_compile_webassembly(client):
    response = client.get("/")
    assert "wasm-unsafe-eval" not in response.get("Content-Security-Policy", "")


def test_english_scanner_page(client):
    response = client.get("/en/scan/")
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()


def test_no_inline_script_or_style_and_only_our_static_files(client):
    html = client.get("/scan/").content.decode()

    assert "style=" not in html
    assert "<style" not in html
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        if body.strip():
            # Data islands only: never executed, so the CSP allows them.
            assert 'type="application/json"' in attributes
            json.loads(body)
        else:
            assert 'src="/static/' in attributes
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        if url == "/scan/manifest.webmanifest":
            continue
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), url
    assert "http://" not in html and "https://" not in html


def test_config_points_the_decoder_at_our_wasm(client):
    html = client.get("/scan/").content.decode()
    config = json.loads(re.search(r'id="scanner-config"[^>]*>(.*?)</script>', html, re.S)[1])

    assert config["wasm"] == "/static/vendor/zxing-wasm/zxing_reader.wasm"
    assert config["reader"] == "/static/vendor/zxing-wasm/zxing_reader.js"
    assert config["decoder"] == "/static/js/scanner-decoder.js"
    for url in (config["wasm"], config["reader"], config["decoder"]):
        assert finders.find(url.removeprefix("/static/")), url
    assert config["serviceWorker"] == "/scan/sw.js"
    assert config["scope"] == "/scan/"
    assert config["api"] == "/api/v1/"


def test_page_strings_are_valid_json(client):
    html = client.get("/scan/").content.decode()
    strings = json.loads(re.search(r'id="scanner-strings"[^>]*>(.*?)</script>', html, re.S)[1])
    assert strings["not_ours"] == "Dit is geen toegangsbewijs van deze site"
    assert strings["welcome_many"] == "Welkom — {n} personen"


@pytest.mark.parametrize("path", ["/scan/sw.js", "/en/scan/sw.js"])
def test_service_worker_headers_and_assets(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    page = path.removesuffix("sw.js")
    assert response["Service-Worker-Allowed"] == page
    body = response.content.decode()
    assets = json.loads(re.search(r"self.SCANNER_ASSETS = (\[.*?\]);", body)[1])
    assert assets[0] == page
    for url in assets[1:]:
        assert finders.find(url.removeprefix("/static/")), url
    assert 'importScripts("/static/js/scanner-sw.js")' in body
    assert finders.find("js/scanner-sw.js")


def test_scanner_urls():
    assert reverse("scanner:page") == "/scan/"
    assert reverse("scanner:service_worker") == "/scan/sw.js"
    assert reverse("scanner:manifest") == "/scan/manifest.webmanifest"


def test_scanner_page_links_its_manifest_and_touch_icon(client):
    html = client.get("/scan/").content.decode()
    assert '<link rel="manifest" href="/scan/manifest.webmanifest">' in html
    assert '<link rel="apple-touch-icon" href="/static/icons/scanner-192.png">' in html
    assert '<meta name="theme-color" content="#111111">' in html
    assert "manifest-src 'self'" in client.get("/scan/")["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("path", "page", "name"),
    [
        ("/scan/manifest.webmanifest", "/scan/", "Scanner — toegangscontrole"),
        ("/en/scan/manifest.webmanifest", "/en/scan/", "Scanner — ticket check"),
    ],
)
def test_web_app_manifest(client, path, page, name):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == name
    assert manifest["short_name"] == "Scanner"
    assert manifest["start_url"] == page
    assert manifest["scope"] == page
    assert manifest["id"] == page
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == manifest["background_color"] == "#111111"
    # The service worker's scope is the app's: installed, the scanner still works offline.
    worker = client.get(f"{page}sw.js")
    assert worker["Service-Worker-Allowed"] == manifest["scope"]
    icons = {(icon["sizes"], icon["purpose"]): icon for icon in manifest["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for (sizes, _purpose), icon in icons.items():
        assert icon["type"] == "image/png"
        file = finders.find(icon["src"].removeprefix("/static/"))
        assert file, icon["src"]
        with Image.open(file) as image:
            assert image.format == "PNG"
            assert "x".join(map(str, image.size)) == sizes


def test_manifest_refuses_post(client):
    assert client.post("/scan/manifest.webmanifest").status_code == 405


def test_post_is_refused(client):
    assert client.post("/scan/").status_code == 405


def test_production_serves_the_decoder_compressed(tmp_path, settings):
    """collectstatic with production's storage writes a gzip copy of the decoder's WebAssembly
    beside it, and WhiteNoise serves that copy, as WebAssembly, to a browser that accepts gzip."""
    settings.STATIC_ROOT = tmp_path
    # Only the decoder's files: compressing every static file of every app takes long.
    wasm_source = finders.find("vendor/zxing-wasm/zxing_reader.wasm")
    assert isinstance(wasm_source, str)
    decoder = Path(wasm_source).parent
    settings.STATICFILES_DIRS = [("vendor/zxing-wasm", decoder)]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    (wasm,) = (tmp_path / "vendor/zxing-wasm").glob("zxing_reader.*.wasm")
    assert wasm.with_name(wasm.name + ".gz").stat().st_size < wasm.stat().st_size * 0.6

    served = WhiteNoise(None, root=tmp_path, prefix="/static/")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/static/vendor/zxing-wasm/{wasm.name}"}
    setup_testing_defaults(environ)
    environ["HTTP_ACCEPT_ENCODING"] = "gzip, deflate, br"
    headers: dict[str, str] = {}
    body = served(environ, lambda status, pairs: headers.update(pairs))
    assert headers["Content-Type"] == "application/wasm"
    assert headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) < wasm.stat().st_size * 0.6
    body.close()
