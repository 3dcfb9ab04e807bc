"""Setup checks behind `manage.py astria_check`: which Astria, the key, the branch, PUBLIC_URL.

Each check returns findings (level and plain words); the command prints them and fails on any
problem. A studio that Astria cannot call back still completes its jobs (the reconciler polls),
so with the sandbox an unreachable PUBLIC_URL is a warning, and with the real Astria a problem.
The one setting that is wrong without any call, a production with no key, is also a
`manage.py check --deploy` error (`astria_configuration`).
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core import checks as django_checks

from studio.astria.client import AstriaClient
from studio.astria.errors import AstriaAuthError, AstriaError, AstriaNotFound, AstriaTransient

OK, WARNING, PROBLEM = "ok", "warning", "problem"
KNOWN_BRANCHES = {
    "fast": "Astria's free test mode; tunes and prompts cost nothing and return mock images",
    "sd15": "Stable Diffusion 1.5 checkpoints; costs money per tune and prompt",
    "sdxl1": "SDXL 1.0; costs money per tune and prompt",
    "flux1": "Flux.1 LoRA tunes; costs money per tune and prompt",
}
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


@dataclass(frozen=True)
class Finding:
    level: str
    text: str


@django_checks.register(deploy=True)
def astria_configuration(app_configs, **kwargs) -> list:
    if not settings.ASTRIA_USES_SANDBOX or settings.ALLOW_ASTRIA_SANDBOX:
        return []
    return [
        django_checks.Error(
            "ASTRIA_API_KEY is not set and the sandbox is not allowed: no avatar can be trained.",
            hint="Set ASTRIA_API_KEY (sd_...). Only for a test site: ALLOW_ASTRIA_SANDBOX=1 sends every "
            "job to the local sandbox at ASTRIA_API_URL.",
            id="astria.E001",
        )
    ]


def describe_target() -> str:
    if settings.ASTRIA_USES_SANDBOX:
        return f"the local sandbox at {settings.ASTRIA_API_URL} (ASTRIA_API_KEY is not set)"
    return f"the real Astria at {settings.ASTRIA_API_URL} (ASTRIA_API_KEY is set)"


def check_key(client: AstriaClient) -> tuple[bool, Finding]:
    """One cheap authenticated call: the first page of tunes."""
    try:
        tunes = client.list_tunes()
    except AstriaAuthError:
        if settings.ASTRIA_USES_SANDBOX:
            return False, Finding(
                PROBLEM, "The sandbox refused the studio's key; is something else on that port?"
            )
        return False, Finding(
            PROBLEM, "Astria refused ASTRIA_API_KEY (401): check the key in your Astria account."
        )
    except AstriaTransient as exc:
        if settings.ASTRIA_USES_SANDBOX:
            return False, Finding(
                PROBLEM,
                f"The sandbox does not answer at {settings.ASTRIA_API_URL}. Start it with `make run` "
                f"or `python -m astria_sandbox` ({exc.message}).",
            )
        return False, Finding(PROBLEM, f"Astria could not be reached: {exc.message}")
    except AstriaError as exc:
        return False, Finding(PROBLEM, f"The key check failed: {exc.message}")
    where = (
        "The sandbox answers and accepts the studio's key"
        if settings.ASTRIA_USES_SANDBOX
        else "The key works"
    )
    count = f"{len(tunes)} tune{'' if len(tunes) == 1 else 's'}"
    return True, Finding(OK, f"{where} ({count} on the first page).")


def check_branch(client: AstriaClient | None) -> list[Finding]:
    branch, token = settings.ASTRIA_BRANCH, settings.ASTRIA_TOKEN
    if branch not in KNOWN_BRANCHES:
        return [Finding(PROBLEM, f"ASTRIA_BRANCH {branch!r} is not one of: {', '.join(KNOWN_BRANCHES)}.")]
    findings = [Finding(OK, f"Branch {branch!r} ({KNOWN_BRANCHES[branch]}), token {token!r}.")]
    base = settings.ASTRIA_BASE_TUNE_ID
    lora = branch in settings.ASTRIA_LORA_BRANCHES
    if lora:
        findings.append(
            Finding(OK, f"{branch} trains LoRA tunes: prompts run on the base tune with <lora:TUNE_ID:1>.")
        )
    if base is None:
        level = PROBLEM if lora else OK
        return [
            *findings,
            Finding(level, "No base tune (ASTRIA_BASE_TUNE_ID)" + (": LoRA needs one." if lora else ".")),
        ]
    return [*findings, _tune_finding(client, base, "Base tune", "ASTRIA_BASE_TUNE_ID")]


def check_edit_tune(client: AstriaClient | None) -> list[Finding]:
    """The partner edit model's tune that touch-ups run on (studio/avatars/edits.py)."""
    tune_id = settings.ASTRIA_EDIT_TUNE_ID
    if not tune_id:
        return [Finding(OK, "Touch-ups are switched off (ASTRIA_EDIT_TUNE_ID=0).")]
    finding = _tune_finding(client, tune_id, "Edit tune", "ASTRIA_EDIT_TUNE_ID")
    if finding.level == PROBLEM:
        return [Finding(PROBLEM, f"{finding.text} Touch-ups would fail; ASTRIA_EDIT_TUNE_ID=0 switches them off.")]
    return [finding]


def _tune_finding(client: AstriaClient | None, tune_id: int, what: str, setting: str) -> Finding:
    if client is None:
        return Finding(OK, f"{what} {tune_id} (not looked up: the key check failed).")
    try:
        tune = client.get_tune(tune_id)
    except AstriaNotFound:
        return Finding(PROBLEM, f"{what} {tune_id} ({setting}) does not exist for this key.")
    except AstriaError as exc:
        return Finding(WARNING, f"{what} {tune_id} could not be looked up: {exc.message}")
    return Finding(OK, f"{what} {tune_id} ({tune.title}, branch {tune.branch}) is available.")


def _local_reason(host: str) -> str | None:
    """Why `host` cannot be reached from the internet, or None if it looks public."""
    if not host:
        return "it has no host"
    if host == "localhost" or host.endswith(LOCAL_SUFFIXES) or ("." not in host and ":" not in host):
        return f"{host} is a local name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None if address.is_global else f"{host} is a loopback or private address"
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return f"{host} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"{host} resolves to {address}, a loopback or private address"
    return None


def _probe(url: str) -> tuple[str, str]:
    """GET url without following redirects: ("ok" | "redirect" | "unhealthy" | "down", detail)."""
    try:
        response = requests.get(
            url, timeout=(3, 5), allow_redirects=False, headers={"User-Agent": "astria_check"}
        )
    except requests.RequestException as exc:
        return "down", type(exc).__name__
    if 200 <= response.status_code < 300:
        return "ok", str(response.status_code)
    if 300 <= response.status_code < 400:
        return "redirect", f"{response.status_code} to {response.headers.get('Location', '?')}"
    if response.status_code == 503:
        return "unhealthy", "503"
    return "down", str(response.status_code)


def check_public_url() -> list[Finding]:
    public_url = settings.PUBLIC_URL
    sandbox = settings.ASTRIA_USES_SANDBOX
    parts = urlsplit(public_url)
    health = f"{public_url}/healthz"
    local = _local_reason(parts.hostname or "")
    outcome, detail = _probe(health)
    findings = []

    if sandbox and local:
        if outcome == "ok":
            findings.append(
                Finding(
                    OK,
                    f"The sandbox runs on this machine and can call back {public_url} "
                    f"({health} answered {detail}).",
                )
            )
        else:
            findings.append(
                Finding(
                    WARNING,
                    f"Nothing answers at {health} ({detail}), so callbacks cannot reach the studio right "
                    "now; the reconciler will poll Astria for progress instead. Start the web process "
                    "(`make run`).",
                )
            )
        findings.append(
            Finding(
                WARNING,
                f"PUBLIC_URL {public_url} cannot be reached from the internet ({local}): the real "
                "Astria could never call it back, so with a real key callbacks would not reach the studio "
                "and the reconciler would poll instead. Set PUBLIC_URL to the studio's public https "
                "address before using ASTRIA_API_KEY.",
            )
        )
        return findings

    problem = WARNING if sandbox else PROBLEM
    if parts.scheme != "https":
        findings.append(
            Finding(
                problem,
                f"PUBLIC_URL {public_url} is not https: callback URLs carry tokens and need encryption.",
            )
        )
    if local:
        findings.append(
            Finding(
                problem,
                f"PUBLIC_URL {public_url} is not reachable from the internet: {local}. "
                "Callbacks cannot reach the studio; the reconciler will poll instead.",
            )
        )
    if outcome == "ok":
        findings.append(Finding(OK, f"{health} answered {detail} without redirects."))
    elif outcome == "redirect":
        findings.append(
            Finding(
                problem,
                f"{health} redirects ({detail}); callbacks are not redirected, so "
                "PUBLIC_URL must be the final address (scheme, host, no trailing path).",
            )
        )
    elif outcome == "unhealthy":
        findings.append(
            Finding(WARNING, f"{health} answers but reports a problem (503): see the health page.")
        )
    else:
        findings.append(
            Finding(
                problem,
                f"Nothing answers at {health} ({detail}): callbacks cannot reach the "
                "studio; the reconciler will poll instead.",
            )
        )
    return findings
