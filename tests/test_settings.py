"""Settings: importing them writes nothing, and production (DEBUG off) takes no development
stand-in unless it is named.

Production settings are made the way a deploy makes them: `studio/settings.py` run afresh under a
production environment (DEBUG=0, a secret key, hosts, an https PUBLIC_URL; no Stripe, email or
Astria account and no ALLOW_* variable), either in a `manage.py` process or as a module whose
values the test then uses.
"""

import importlib.util
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from studio.astria.client import get_client
from studio.astria.errors import AstriaNotConfigured
from studio.core.exceptions import ApplicationError
from studio.credits import purchases
from studio.credits.models import CreditPurchase
from studio.credits.selectors import credit_balance
from studio.photos import services as photo_services
from tests.credits.factories import PurchaseFactory
from tests.factories import AvatarFactory
from tests.photos import corpus

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "production-like-secret-key-for-tests-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "studio.example.com",
    "PUBLIC_URL": "https://studio.example.com",
}
OPT_INS = {"ALLOW_TEST_CHECKOUT": "1", "ALLOW_CONSOLE_EMAIL": "1", "ALLOW_ASTRIA_SANDBOX": "1"}
# What a deploy may or may not set; a test names the ones it wants.
_UNSET = ("STRIPE_", "EMAIL_", "ASTRIA_", "ALLOW_", "SECURE_", "DJANGO_")
_UNSET_NAMES = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "PUBLIC_URL", "BEHIND_PROXY", "TRUSTED_PROXIES"}


def production_environ(tmp_path: Path, **variables: str) -> dict[str, str]:
    kept = {
        name: value for name, value in os.environ.items()
        if not name.startswith(_UNSET) and name not in _UNSET_NAMES
    }
    return kept | PRODUCTION | {"VAR_DIR": str(tmp_path / "var")} | variables


def production_settings(monkeypatch, tmp_path: Path, **variables: str):
    """studio/settings.py run afresh, as a module of its own, under a production environment."""
    wanted = production_environ(tmp_path, **variables)
    for name in set(os.environ) - set(wanted):
        monkeypatch.delenv(name)
    for name, value in wanted.items():
        monkeypatch.setenv(name, value)
    before = set(os.environ)
    spec = importlib.util.spec_from_file_location("production_settings", ROOT / "studio" / "settings.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        for name in set(os.environ) - before:  # whatever a local .env file added
            monkeypatch.delenv(name)
    return module


def use(settings, production, *prefixes: str) -> None:
    """This test's Django settings take production's DEBUG and every value named with the prefixes."""
    settings.DEBUG = production.DEBUG
    for name in dir(production):
        if name.startswith(prefixes):
            setattr(settings, name, getattr(production, name))


def deploy_check(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_environ(tmp_path, **variables), capture_output=True, text=True, timeout=120,
    )


# --- Development stand-ins --------------------------------------------------------------------------


def test_deploy_check_fails_on_each_development_stand_in_until_its_opt_in_is_named(tmp_path):
    refused = deploy_check(tmp_path)

    assert refused.returncode != 0
    for check, opt_in in (
        ("credits.E005", "ALLOW_TEST_CHECKOUT=1"),
        ("core.E001", "ALLOW_CONSOLE_EMAIL=1"),
        ("astria.E001", "ALLOW_ASTRIA_SANDBOX=1"),
    ):
        assert check in refused.stderr and opt_in in refused.stderr
    assert "System check identified 3 issues" in refused.stderr

    named = deploy_check(tmp_path, **OPT_INS)  # as `make deploy-check` runs it

    assert named.returncode == 0, named.stderr
    assert "System check identified no issues" in named.stdout


@pytest.mark.django_db
def test_without_stripe_production_sells_no_credits_and_the_test_checkout_refuses(
    monkeypatch, tmp_path, settings, user_client, user
):
    opened_before = PurchaseFactory(user=user, provider=CreditPurchase.Provider.TEST, provider_session_id="")
    use(settings, production_settings(monkeypatch, tmp_path), "STRIPE_", "ALLOW_")

    page = user_client.get(reverse("credits:buy")).content.decode()
    bought = user_client.post(reverse("credits:buy"), {"pack": "studio"})
    checkout = reverse("credits:checkout", args=[opened_before.pk])

    assert "Buying credits is not available right now" in page and "Test mode" not in page
    assert bought.status_code == 503 and "Buying credits is not available right now" in bought.content.decode()
    assert list(CreditPurchase.objects.filter(user=user)) == [opened_before]
    assert user_client.get(checkout).status_code == 404
    assert user_client.post(checkout).status_code == 404
    with pytest.raises(ApplicationError):
        purchases.purchase_pay_test(user=user, purchase_id=opened_before.pk)
    assert credit_balance(user=user) == 0


@pytest.mark.django_db
def test_production_takes_the_test_checkout_only_when_allow_test_checkout_names_it(
    monkeypatch, tmp_path, settings, user_client, user
):
    use(settings, production_settings(monkeypatch, tmp_path, ALLOW_TEST_CHECKOUT="1"), "STRIPE_", "ALLOW_")

    response = user_client.post(reverse("credits:buy"), {"pack": "plus"}, follow=True)

    assert "Pay (test)" in response.content.decode()
    user_client.post(response.redirect_chain[-1][0])
    assert credit_balance(user=user) == 50


def test_without_email_url_production_refuses_to_send_rather_than_print_links(monkeypatch, tmp_path, capsys):
    production = production_settings(monkeypatch, tmp_path)
    link = "https://studio.example.com/accounts/password/reset/key/1-secretkey/"

    connection = mail.get_connection(production.EMAIL_BACKEND)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        mail.send_mail("Reset your password", link, None, ["someone@example.test"], connection=connection)

    assert "secretkey" not in capsys.readouterr().out
    allowed = production_settings(monkeypatch, tmp_path, ALLOW_CONSOLE_EMAIL="1")
    assert allowed.EMAIL_BACKEND == "studio.core.mail.ConsoleEmailBackend"
    smtp = production_settings(monkeypatch, tmp_path, EMAIL_URL="smtp+tls://user:pass@mail.example.com:587")
    assert smtp.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"


def test_without_an_astria_key_production_refuses_every_call_instead_of_using_the_sandbox(
    monkeypatch, tmp_path, settings
):
    use(settings, production_settings(monkeypatch, tmp_path), "ASTRIA_", "ALLOW_")

    with pytest.raises(AstriaNotConfigured, match="ASTRIA_API_KEY"):
        get_client()
    with pytest.raises(CommandError, match="ASTRIA_API_KEY is not set"):
        call_command("astria_check", stdout=io.StringIO())

    use(settings, production_settings(monkeypatch, tmp_path, ALLOW_ASTRIA_SANDBOX="1"), "ASTRIA_", "ALLOW_")
    assert get_client().api_url == settings.ASTRIA_API_URL


# --- HTTPS, cookies and files -------------------------------------------------------------------------


def test_https_production_leaves_hsts_preload_to_the_operator(monkeypatch, tmp_path):
    production = production_settings(monkeypatch, tmp_path)
    preloaded = production_settings(monkeypatch, tmp_path, SECURE_HSTS_PRELOAD="1")

    assert production.SECURE_HSTS_SECONDS > 0 and production.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert not production.SECURE_HSTS_PRELOAD
    assert preloaded.SECURE_HSTS_PRELOAD


@pytest.mark.django_db
def test_the_csrf_cookie_is_out_of_reach_of_scripts(client):
    response = client.get(reverse("account_login"))

    assert response.cookies["csrftoken"]["httponly"]
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()  # forms and htmx read it from the page


@pytest.mark.django_db
def test_stored_photos_are_readable_by_the_studio_user_only(user, settings):
    avatar = AvatarFactory(user=user)
    upload = SimpleUploadedFile("IMG_0001.jpg", corpus.jpeg(), content_type="image/jpeg")

    photo = photo_services.photo_upload(user=user, avatar=avatar, upload=upload)

    media = Path(settings.MEDIA_ROOT)
    stored = media / photo.incoming.name
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    folder = stored.parent
    while folder != media.parent:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        folder = folder.parent


# --- Importing the settings, and what development alone installs ------------------------------
READ = "import json, studio.settings as s; print(json.dumps({'apps': s.INSTALLED_APPS, 'key': s.SECRET_KEY}))"


def test_on_postgresql_repeated_statements_are_prepared_unless_a_pooler_cannot_keep_them(monkeypatch, tmp_path):
    database = "postgres://studio@db.internal:5432/studio"
    prepared = production_settings(monkeypatch, tmp_path, DATABASE_URL=database).DATABASES["default"]
    pooled = production_settings(
        monkeypatch, tmp_path, DATABASE_URL=database, DATABASE_PREPARED_STATEMENTS="0"
    ).DATABASES["default"]

    assert prepared["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert "prepare_threshold" not in pooled.get("OPTIONS", {})
    assert prepared["CONN_HEALTH_CHECKS"] and pooled["CONN_HEALTH_CHECKS"]


def run_fresh(args: list[str], var_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """A fresh process on the embedded defaults (SQLite and the filesystem broker under var_dir)."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL")
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        # Empty values rather than none, so that a developer's .env cannot fill them in.
        env=clean | {"VAR_DIR": str(var_dir), "SECRET_KEY": "", "REDIS_URL": ""} | env,
        capture_output=True,
        text=True,
        check=True,
    )


def read_settings(var_dir: Path, **env: str) -> dict:
    return json.loads(run_fresh(["-c", READ], var_dir, **env).stdout)


def test_importing_the_settings_writes_nothing(tmp_path):
    var_dir = tmp_path / "var"

    read_settings(var_dir, DEBUG="1")

    assert not var_dir.exists()


def test_starting_the_studio_makes_the_local_folders_it_needs(tmp_path):
    var_dir = tmp_path / "var"

    run_fresh(["manage.py", "check"], var_dir, DEBUG="1")

    for folder in ("broker/queue", "broker/processed", "broker/control", "staticfiles"):
        assert (var_dir / folder).is_dir(), folder
    assert not (var_dir / "secret_key").exists()  # `make run` writes it


def test_with_debug_every_process_reads_the_key_make_run_wrote(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "secret_key").write_text("a-key-written-once-by-make-run\n")

    web, worker = read_settings(var_dir, DEBUG="1"), read_settings(var_dir, DEBUG="1")

    assert web["key"] == worker["key"] == "a-key-written-once-by-make-run"


def test_only_development_installs_the_sandbox_and_the_cover_painter(tmp_path):
    production = read_settings(tmp_path, DEBUG="0", SECRET_KEY="production-secret-key-" + "x" * 40)
    development = read_settings(tmp_path, DEBUG="1")

    assert not {"astria_sandbox", "tools.covers"} & set(production["apps"])
    assert {"astria_sandbox", "tools.covers"} <= set(development["apps"])
