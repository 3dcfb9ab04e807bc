"""The sandbox's command line: `python -m astria_sandbox`, and `manage.py astria_sandbox` with DEBUG on.

Both take the same options, whose defaults come from the environment (and the project's `.env`
file, as for the studio): ASTRIA_SANDBOX_PORT (8765), ASTRIA_SANDBOX_STATE (`sandbox/sandbox.sqlite3`
under VAR_DIR, `var/` by default), ASTRIA_SANDBOX_TRAINING_DELAY (20 s), ASTRIA_SANDBOX_PROMPT_DELAY
(8 s), ASTRIA_SANDBOX_DROP_CALLBACKS, ASTRIA_SANDBOX_FAIL_NEXT (0) and ASTRIA_SANDBOX_FAIL_STATUS (500).
"""

import argparse
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

import environ

from astria_sandbox.engine import FAIL_STATUSES, LIKENESS_FAULTS, Sandbox

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTION = (
    "Run the Astria sandbox: an Astria-compatible API with its own state, delays, fault "
    "injection and rendered images. The studio uses it whenever ASTRIA_API_KEY is unset."
)


class StartError(Exception):
    """The sandbox cannot start; the message says why and what to do."""


def environment_defaults() -> dict:
    env = environ.Env()
    if (ROOT / ".env").is_file():
        env.read_env(ROOT / ".env")
    var_dir = Path(env("VAR_DIR", default=str(ROOT / "var")))
    return {
        "port": env.int("ASTRIA_SANDBOX_PORT", default=8765),
        "state": env("ASTRIA_SANDBOX_STATE", default=str(var_dir / "sandbox" / "sandbox.sqlite3")),
        "training_delay": env.float("ASTRIA_SANDBOX_TRAINING_DELAY", default=20.0),
        "prompt_delay": env.float("ASTRIA_SANDBOX_PROMPT_DELAY", default=8.0),
        "drop_callbacks": env.bool("ASTRIA_SANDBOX_DROP_CALLBACKS", default=False),
        "fail_next": env.int("ASTRIA_SANDBOX_FAIL_NEXT", default=0),
        "fail_status": env.int("ASTRIA_SANDBOX_FAIL_STATUS", default=500),
    }


def add_arguments(parser: argparse.ArgumentParser, defaults: dict) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=defaults["port"], help="port (default ASTRIA_SANDBOX_PORT, %(default)s)"
    )
    parser.add_argument(
        "--public-url", default=None, help="base of the URLs put into objects (default http://HOST:PORT)"
    )
    parser.add_argument(
        "--state",
        default=defaults["state"],
        help="SQLite file for the sandbox's state (default ASTRIA_SANDBOX_STATE, %(default)s)",
    )
    parser.add_argument("--memory", action="store_true", help="keep the state in memory only")
    parser.add_argument(
        "--training-delay",
        type=float,
        default=defaults["training_delay"],
        help="seconds until a tune is trained (ASTRIA_SANDBOX_TRAINING_DELAY, %(default)s)",
    )
    parser.add_argument(
        "--prompt-delay",
        type=float,
        default=defaults["prompt_delay"],
        help="seconds a prompt runs once its tune is trained (ASTRIA_SANDBOX_PROMPT_DELAY, %(default)s)",
    )
    parser.add_argument(
        "--drop-callbacks",
        action="store_true",
        default=defaults["drop_callbacks"],
        help="never deliver callbacks (ASTRIA_SANDBOX_DROP_CALLBACKS)",
    )
    parser.add_argument(
        "--fail-next",
        type=int,
        default=defaults["fail_next"],
        help="fail the next N creates (ASTRIA_SANDBOX_FAIL_NEXT)",
    )
    parser.add_argument(
        "--fail-status",
        type=int,
        choices=FAIL_STATUSES,
        default=defaults["fail_status"],
        help="status of those failures; 504 still creates (ASTRIA_SANDBOX_FAIL_STATUS)",
    )
    parser.add_argument(
        "--fail-scope",
        choices=("create", "any"),
        default="create",
        help="fail only creates (default) or any API request",
    )
    parser.add_argument(
        "--fail-prompts-next",
        type=int,
        default=0,
        help="the next N prompts end with user_error instead of images",
    )
    parser.add_argument(
        "--likeness-fault",
        choices=LIKENESS_FAULTS,
        default="off",
        help="paint a share of each new prompt's images without the subject's face (no_face) or with "
        "someone else's (stranger)",
    )
    parser.add_argument(
        "--likeness-fault-share",
        type=float,
        default=0.75,
        help="the share of a prompt's images the likeness fault paints wrong, 0 to 1 (%(default)s)",
    )
    parser.add_argument(
        "--likeness-fault-match",
        default="",
        help="only prompts whose text holds these words get the likeness fault (default: every prompt)",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before every answer")
    parser.add_argument(
        "--idempotent-titles",
        action="store_true",
        help="a tune create with an existing title returns that tune (Astria's option)",
    )


def start(options: dict, *, gallery_tunes: dict[str, int] | None = None) -> Sandbox:
    """A sandbox bound to its port with the options' switches, not serving yet."""
    try:
        return Sandbox(
            host=options["host"],
            port=options["port"],
            state_path=None if options["memory"] else options["state"],
            public_url=options["public_url"],
            gallery_tunes=gallery_tunes,
            training_delay=options["training_delay"],
            prompt_delay=options["prompt_delay"],
            drop_callbacks=options["drop_callbacks"],
            fail_next=options["fail_next"],
            fail_status=options["fail_status"],
            fail_scope=options["fail_scope"],
            fail_prompts_next=options["fail_prompts_next"],
            latency=options["latency"],
            idempotent_titles=options["idempotent_titles"],
            likeness_fault=options["likeness_fault"],
            likeness_fault_share=options["likeness_fault_share"],
            likeness_fault_match=options["likeness_fault_match"],
        )
    except OSError as exc:
        raise StartError(
            f"Cannot listen on {options['host']}:{options['port']} ({exc.strerror or exc}). Is another "
            "sandbox already running there? Choose another port with --port."
        ) from exc
    except ValueError as exc:
        raise StartError(str(exc)) from exc


def summary(sandbox: Sandbox, options: dict) -> list[str]:
    state = "memory" if options["memory"] else options["state"]
    switches = sandbox.switch_values()
    return [
        f"Astria sandbox on {sandbox.url} (state: {state})",
        f"  training {switches['training_delay']:g} s, prompts {switches['prompt_delay']:g} s"
        + (", callbacks dropped" if switches["drop_callbacks"] else "")
        + (
            f", next {switches['fail_next']} creates fail with {switches['fail_status']}"
            if switches["fail_next"]
            else ""
        )
        + (
            f", likeness fault {switches['likeness_fault']} on {switches['likeness_fault_share']:.0%} of the images"
            if switches["likeness_fault"] != "off"
            else ""
        ),
    ]


def serve(sandbox: Sandbox) -> None:
    """Serve until Ctrl-C or SIGTERM, then stop cleanly."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m astria_sandbox", description=DESCRIPTION)
    try:
        defaults = environment_defaults()
    except ValueError as exc:
        parser.error(f"an ASTRIA_SANDBOX_* variable is not valid: {exc}")
    add_arguments(parser, defaults)
    options = vars(parser.parse_args(argv))
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stdout,
    )
    try:
        sandbox = start(options)
    except StartError as exc:
        parser.exit(1, f"{exc}\n")
    print("\n".join(summary(sandbox, options)), flush=True)
    serve(sandbox)
