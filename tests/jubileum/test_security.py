"""Security settings of the production configuration, and private uploads that no URL serves.

Production settings differ from the test run's (DEBUG decides several), so those cases start a
process with a production environment and ask it (once for the module), or evaluate the settings
afresh with one (`settings_from`).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from jubileum.lib.storage import PrivateFileSystemStorage, private_storage
from tests.helpers import settings_from

REPO = Path(__file__).resolve().parents[2]
HOST = "jubileum.example.nl"
PDF = b"%PDF-1.4\n% factuur Bakkerij Van der Pol\n%%EOF\n"

# Run inside a production process: headers of a page and the API, and the cookies Django sets.
PROBE = f"""
import json
from django.conf import settings
from django.core.management import call_command
from django.test import Client

call_command("migrate", verbosity=0)
client = Client(HTTP_HOST={HOST!r})
login = client.get("/admin/login/", secure=True)
api = client.get("/api/v1/programmes", secure=True)
plain = client.get("/api/v1/programmes")
uploads = [
    client.get(path, secure=True).status_code
    for path in (
        "/media/logo.png",
        "/private/budget/factuur.pdf",
        "/media/../private/budget/factuur.pdf",
        "/static/../private/budget/factuur.pdf",
        "/budget/factuur.pdf",
    )
]
print(json.dumps({{
    "uploads": uploads,
    "login": {{"status": login.status_code, "headers": dict(login.headers)}},
    "api": {{"status": api.status_code, "headers": dict(api.headers)}},
    "plain": {{"status": plain.status_code, "location": plain.headers.get("Location")}},
    "csrf_cookie": {{k: v for k, v in login.cookies["csrftoken"].items()}},
    "settings": {{
        name: getattr(settings, name)
        for name in (
            "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE",
            "CSRF_COOKIE_HTTPONLY", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SECURE_SSL_REDIRECT", "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS",
            "SECURE_CONTENT_TYPE_NOSNIFF", "DEBUG",
        )
    }},
}}))
"""


def manage(*args: str, env: dict[str, str], var_dir: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(var_dir)),
        "LANG": "C.UTF-8",
        "JUBILEUM_VAR_DIR": str(var_dir),
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def production_env_in(folder: Path) -> dict[str, str]:
    (folder / "static").mkdir(exist_ok=True)
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": f"https://{HOST}",
        "DATABASE_URL": f"sqlite:///{folder / 'jubileum.sqlite3'}",
        "MAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    return production_env_in(tmp_path)


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict:
    """What a production process answers (see PROBE); made once for the tests that read it."""
    folder = tmp_path_factory.mktemp("production")
    env = production_env_in(folder)
    # An uploaded logo (MEDIA_ROOT) and an invoice (PRIVATE_MEDIA_ROOT), both under var/.
    (folder / "private" / "budget").mkdir(parents=True)
    (folder / "private" / "budget" / "factuur.pdf").write_bytes(PDF)
    (folder / "media").mkdir()
    (folder / "media" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    # Manifest storage needs the collected files to name them in pages.
    collected = manage("collectstatic", "--no-input", "-v", "0", env=env, var_dir=folder)
    assert collected.returncode == 0, collected.stderr
    result = manage("shell", "-c", PROBE, env=env, var_dir=folder)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_cookies_are_secure_and_out_of_scripts_reach(production):
    settings = production["settings"]
    cookie = production["csrf_cookie"]

    assert settings["DEBUG"] is False
    assert settings["SESSION_COOKIE_SECURE"] and settings["SESSION_COOKIE_HTTPONLY"]
    assert settings["CSRF_COOKIE_SECURE"] and settings["CSRF_COOKIE_HTTPONLY"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_production_pages_send_the_security_headers(production):
    for answer in (production["login"], production["api"]):
        headers = answer["headers"]
        assert answer["status"] == 200
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self';" in csp  # no inline script, nothing from other hosts


def test_production_redirects_plain_http_to_https(production):
    assert production["plain"] == {
        "status": 301,
        "location": f"https://{HOST}/api/v1/programmes",
    }


def test_login_page_keeps_working_with_an_httponly_csrf_cookie(client, db, settings):
    """The form carries the token itself: no script has to read the cookie."""
    settings.CSRF_COOKIE_HTTPONLY = True

    page = client.get("/admin/login/")
    token = page.context["csrf_token"]

    assert f'name="csrfmiddlewaretoken" value="{token}"' in page.content.decode()


# --- Private uploads -------------------------------------------------------------------------


@pytest.fixture
def private_file(settings, tmp_path) -> str:
    """An invoice in private storage (as budget attachments are kept), in a folder of this test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**settings.STORAGES["private"], "OPTIONS": {"location": tmp_path / "private"}},
    }
    return storages["private"].save("budget/1/1/factuur.pdf", ContentFile(PDF))


def test_private_storage_has_no_url(private_file):
    # Django's FileSystemStorage falls back to MEDIA_URL when base_url is None; ours refuses.
    assert isinstance(storages["private"], PrivateFileSystemStorage)
    with pytest.raises(ValueError, match="not accessible via a URL"):
        storages["private"].url(private_file)


def test_private_storage_proxy_follows_an_override_of_storages(private_file, tmp_path):
    assert private_storage.location == str(tmp_path / "private")
    assert private_storage.exists(private_file)


@pytest.mark.parametrize(
    "prefix",
    ["/media/", "/static/", "/private/", "/media/../private/", "/media/%2e%2e/private/", "/"],
)
def test_no_public_url_serves_a_private_file(client, db, private_file, prefix):
    response = client.get(prefix + private_file)

    # 404; or 400 where DEBUG's /media/ route was loaded (urls imported while collecting, before
    # pytest-django turns DEBUG off) and refuses the climb out of MEDIA_ROOT as suspicious.
    assert response.status_code in (400, 404)
    body = b"".join(response) if response.streaming else response.content
    assert PDF not in body


def test_production_serves_no_uploads_at_all(production):
    # The app serves neither MEDIA_ROOT nor PRIVATE_MEDIA_ROOT in production: whitenoise serves
    # the collected static files only. Public uploads (logos) are the front web server's to serve
    # from MEDIA_ROOT (README, "Productie"); private ones leave only through the download view.
    assert production["uploads"] == [404, 404, 404, 404, 404]


@pytest.mark.parametrize("public", ["MEDIA_ROOT", "JUBILEUM_VAR_DIR/static"])
def test_private_media_inside_a_public_folder_is_refused(production_env, tmp_path, public):
    public_folder = tmp_path / "static" if public.endswith("static") else tmp_path / "media"
    env = {**production_env, "PRIVATE_MEDIA_ROOT": str(public_folder / "private")}
    if public == "MEDIA_ROOT":
        env["MEDIA_ROOT"] = str(public_folder)

    with pytest.raises(
        ImproperlyConfigured, match=r"PRIVATE_MEDIA_ROOT .*which is served publicly"
    ):
        settings_from(env, tmp_path)
