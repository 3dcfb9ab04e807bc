import contextlib
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from studio.sandbox.server import FAIL_STATUSES, Sandbox


class Command(BaseCommand):
    help = (
        "Run the Astria sandbox: an Astria-compatible API with its own state, delays, fault "
        "injection and rendered images. The studio uses it whenever ASTRIA_API_KEY is unset."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument(
            "--port",
            type=int,
            default=settings.ASTRIA_SANDBOX_PORT,
            help="port (default ASTRIA_SANDBOX_PORT, %(default)s)",
        )
        parser.add_argument(
            "--public-url", default=None, help="base of the URLs put into objects (default http://HOST:PORT)"
        )
        parser.add_argument(
            "--state",
            default=settings.ASTRIA_SANDBOX_STATE,
            help="SQLite file for the sandbox's state (default ASTRIA_SANDBOX_STATE, %(default)s)",
        )
        parser.add_argument("--memory", action="store_true", help="keep the state in memory only")
        parser.add_argument(
            "--training-delay",
            type=float,
            default=settings.ASTRIA_SANDBOX_TRAINING_DELAY,
            help="seconds until a tune is trained (ASTRIA_SANDBOX_TRAINING_DELAY, %(default)s)",
        )
        parser.add_argument(
            "--prompt-delay",
            type=float,
            default=settings.ASTRIA_SANDBOX_PROMPT_DELAY,
            help="seconds a prompt runs once its tune is trained (ASTRIA_SANDBOX_PROMPT_DELAY, %(default)s)",
        )
        parser.add_argument(
            "--drop-callbacks",
            action="store_true",
            default=settings.ASTRIA_SANDBOX_DROP_CALLBACKS,
            help="never deliver callbacks (ASTRIA_SANDBOX_DROP_CALLBACKS)",
        )
        parser.add_argument(
            "--fail-next",
            type=int,
            default=settings.ASTRIA_SANDBOX_FAIL_NEXT,
            help="fail the next N creates (ASTRIA_SANDBOX_FAIL_NEXT)",
        )
        parser.add_argument(
            "--fail-status",
            type=int,
            choices=FAIL_STATUSES,
            default=settings.ASTRIA_SANDBOX_FAIL_STATUS,
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
        parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before every answer")
        parser.add_argument(
            "--idempotent-titles",
            action="store_true",
            help="a tune create with an existing title returns that tune (Astria's option)",
        )

    def handle(self, *args, **options):
        try:
            sandbox = Sandbox(
                host=options["host"],
                port=options["port"],
                state_path=None if options["memory"] else options["state"],
                public_url=options["public_url"],
                gallery_tunes=settings.ASTRIA_BASE_TUNE_IDS,
                training_delay=options["training_delay"],
                prompt_delay=options["prompt_delay"],
                drop_callbacks=options["drop_callbacks"],
                fail_next=options["fail_next"],
                fail_status=options["fail_status"],
                fail_scope=options["fail_scope"],
                fail_prompts_next=options["fail_prompts_next"],
                latency=options["latency"],
                idempotent_titles=options["idempotent_titles"],
            )
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']} ({exc.strerror or exc}). Is another "
                "sandbox already running there? Choose another port with --port."
            ) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        state = "memory" if options["memory"] else options["state"]
        self.stdout.write(f"Astria sandbox on {sandbox.url} (state: {state})")
        switches = sandbox.switch_values()
        self.stdout.write(
            f"  training {switches['training_delay']:g} s, prompts {switches['prompt_delay']:g} s"
            + (", callbacks dropped" if switches["drop_callbacks"] else "")
            + (
                f", next {switches['fail_next']} creates fail with {switches['fail_status']}"
                if switches["fail_next"]
                else ""
            )
        )
        if not settings.ASTRIA_USES_SANDBOX:
            self.stdout.write(
                "  ASTRIA_API_KEY is set, so the studio talks to the real Astria; this sandbox is idle."
            )
        elif sandbox.url != settings.ASTRIA_API_URL:
            self.stdout.write(
                f"  Note: the studio's ASTRIA_API_URL is {settings.ASTRIA_API_URL}, not this sandbox."
            )
        self.stdout.flush()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            sandbox.serve_forever()
