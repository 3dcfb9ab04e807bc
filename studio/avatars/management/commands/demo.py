"""A demo avatar through the real services and tasks: a user, photos, themes, a finished gallery."""

import secrets
import time
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.urls import reverse

from accounts.models import User
from accounts.services import user_signup_complete
from studio.astria.client import get_client
from studio.avatars import edits, profile_pictures
from studio.avatars.models import Avatar, AvatarState, EditKind, PromptState, SubjectClass
from studio.avatars.selectors import gallery_prompts, gallery_styles
from studio.avatars.services import avatar_confirm, avatar_create
from studio.core.exceptions import ApplicationError
from studio.credits.selectors import wallets_out_of_balance
from studio.credits.services import credit_grant
from studio.photos.models import PhotoVerdict
from studio.photos.samples import sample_set
from studio.photos.selectors import photo_minimum_met
from studio.photos.services import photo_upload
from studio.teams.demo import run_team_demo
from studio.themes.planner import plan_for_avatar
from studio.themes.services import theme_choose

DEFAULT_THEMES = "golden-hour,film-noir,watercolour,astronaut"
# One paid edit of each kind, in the order the edit page offers them (then the free profile pictures).
DEMO_EDITS = (
    (EditKind.MORE, {}),
    (EditKind.EXTEND, {"option": "banner"}),
    (EditKind.BIGGER, {}),
    (EditKind.TOUCHUP, {"instruction": "plain grey background"}),
)
TEAM_THEMES = "corporate-headshot,golden-hour"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}


class Command(BaseCommand):
    help = (
        "Create (or reuse) a demo user with credits and one avatar made from the given photos (or "
        "sample photos: re-takes of a public-domain portrait) and themes, through the studio's own "
        "services and tasks, and print the gallery URL. Needs the worker running (make run starts it)."
    )
    poll_seconds = 0.5  # how often the photos' checks and the avatar's state are looked at

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", default="demo@example.test", help="the demo user's email")
        parser.add_argument("--password", help="set this password (a new user gets a random one otherwise)")
        parser.add_argument("--photos", type=Path, help="a folder of photos of one subject")
        parser.add_argument(
            "--themes", help=f"comma-separated theme slugs (default {DEFAULT_THEMES}; with --team, {TEAM_THEMES})"
        )
        parser.add_argument("--class", dest="subject_class", default=SubjectClass.WOMAN, choices=SubjectClass.values)
        parser.add_argument("--name", default="Demo", help="the avatar's name")
        parser.add_argument("--no-wait", action="store_true", help="return once confirmed")
        parser.add_argument("--timeout", type=int, default=600, help="seconds to wait for each stage")
        parser.add_argument(
            "--edits", action="store_true",
            help="then one edit of each kind of the first image (more like this, extend, bigger, touch-up, profile "
            "pictures)",
        )
        parser.add_argument(
            "--team", type=int, metavar="N",
            help="instead: an organisation (the demo user its owner) with N invited members who each upload, "
            "confirm from its pool, finish and choose favourites; then the team zip",
        )

    def handle(self, *args, **options) -> None:
        if options["team"] is not None:
            run_team_demo(self, {**options, "themes": options["themes"] or TEAM_THEMES})
            return
        options["themes"] = options["themes"] or DEFAULT_THEMES
        user, password = self._user(options["email"], options["password"])
        avatar = self._avatar(user, options)
        self._wait_for_photos(avatar, options["timeout"])
        self._choose_themes(avatar, options["themes"])
        self._confirm(user, avatar)
        url = settings.PUBLIC_URL + reverse("avatars:detail", args=[avatar.pk])
        login = f"{user.email} / {password}" if password else user.email
        self.stdout.write(f"Log in as {login}\nGallery: {url}")
        if options["no_wait"]:
            return
        self._wait_until_finished(avatar, options["timeout"])
        self._report(avatar, url)
        if options["edits"]:
            self._edits(user, avatar, options["timeout"])

    # --- steps -----------------------------------------------------------------------------------

    def _user(self, email: str, password: str | None):
        with transaction.atomic():
            user = User.objects.filter(email__iexact=email).first()
            created = user is None
            if created:
                password = password or secrets.token_urlsafe(9)
                user = User.objects.create_user(email=email, password=password)
                user_signup_complete(user=user)
            elif password:
                user.set_password(password)
                user.save(update_fields=["password"])
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
        self.stdout.write(f"{'Created' if created else 'Using'} the demo user {user.email}.")
        return user, password

    def _avatar(self, user, options) -> Avatar:
        photos = self._photos(options["photos"])
        try:  # the demo user's quotas: too many drafts, or photos still being checked
            avatar = avatar_create(user=user, name=options["name"], subject_class=options["subject_class"])
            for name, data in photos:
                photo_upload(user=user, avatar=avatar, upload=SimpleUploadedFile(name, data))
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Uploaded {len(photos)} photos to the avatar “{avatar.name}”.")
        return avatar

    def _photos(self, folder: Path | None) -> list[tuple[str, bytes]]:
        if folder is None:
            return sample_set(6)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        least, most = settings.PHOTOS_MIN_ACCEPTED, settings.PHOTOS_MAX_PER_AVATAR
        if not least <= len(files) <= most:
            raise CommandError(f"{folder} holds {len(files)} photos; {least} to {most} are needed.")
        return [(path.name, path.read_bytes()) for path in files]

    def _wait_for_photos(self, avatar: Avatar, timeout: int) -> None:
        deadline = time.monotonic() + timeout
        while avatar.photos.filter(verdict=PhotoVerdict.PROCESSING).exists():
            if time.monotonic() > deadline:
                raise CommandError("The photos were not checked in time: is the worker running? (make run starts it)")
            time.sleep(self.poll_seconds)
        if not photo_minimum_met(avatar=avatar):
            # Refused, or kept but not counted (a repeat of another photo's shot).
            reasons = [
                f"{p.original_name}: {' '.join(f['message'] for f in p.refusals or p.warnings)}"
                for p in avatar.photos.all()
                if not p.counts
            ]
            raise CommandError("Not enough photos were accepted:\n  " + "\n  ".join(reasons))

    def _choose_themes(self, avatar: Avatar, themes: str) -> None:
        for slug in [slug.strip() for slug in themes.split(",") if slug.strip()]:
            try:
                theme_choose(avatar=avatar, theme_slug=slug)
            except ApplicationError as exc:
                raise CommandError(f"Theme “{slug}”: {exc.message}") from exc

    def _confirm(self, user, avatar: Avatar) -> None:
        plan = plan_for_avatar(avatar=avatar)
        if plan.errors:
            raise CommandError(plan.errors[0])
        credit_grant(
            user=user,
            amount=plan.credit_cost,
            key=f"demo:{avatar.pk}",
            reason="Demo credits",
            reference=f"avatar:{avatar.pk}",
        )
        avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
        self.stdout.write(f"Confirmed: {len(plan.prompts)} prompts, {plan.images} images, {plan.credit_cost} credits.")

    def _wait_until_finished(self, avatar: Avatar, timeout: int) -> None:
        deadline, last = time.monotonic() + timeout, ""
        while True:
            avatar.refresh_from_db()
            if avatar.state != last:
                self.stdout.write(f"  {avatar.get_state_display()}")
                last = avatar.state
            if avatar.is_finished:
                return
            if time.monotonic() > deadline:
                state = avatar.get_state_display().lower()
                raise CommandError(f"Still {state} after {timeout} s: are the worker and beat running?")
            time.sleep(self.poll_seconds)

    def _report(self, avatar: Avatar, url: str) -> None:
        images = avatar.images.all()
        stored = sum(1 for image in images if image.image and image.thumbnail)
        tunes = sum(1 for tune in get_client().iter_tunes(title=str(avatar.pk)) if tune.title == str(avatar.pk))
        balanced = not wallets_out_of_balance().filter(user=avatar.user).exists()
        for style in gallery_styles(prompts=list(gallery_prompts(avatar=avatar))):
            # As the gallery shows them: best likeness first, the doubtful ones after.
            scores = " ".join(f"{image.likeness:.2f}" for image in style.images if image.likeness is not None)
            outcome = style.prompt.get_likeness_outcome_display().lower() if style.prompt.likeness_outcome else ""
            self.stdout.write(f"  {style.prompt.label}: {len(style.images)} images"
                              + (f", likeness {scores}" if scores else "") + (f" ({outcome})" if outcome else ""))
        self.stdout.write(
            f"{avatar.get_state_display()}: {stored} images stored with thumbnails, "
            f"{tunes} tune at Astria for this avatar, ledger {'balanced' if balanced else 'NOT balanced'}.\n"
            f"Gallery: {url}"
        )
        if avatar.state != AvatarState.DONE or tunes != 1 or not balanced:
            raise CommandError("The demo did not end as it should (see above).")

    def _edits(self, user, avatar: Avatar, timeout: int) -> None:
        """One edit of each kind of the gallery's first image, each paid, made and stored as the
        site does it, then its profile pictures."""
        image = avatar.images.order_by("prompt__batch", "prompt__position", "index").first()
        self.stdout.write(f"Edits of “{image.prompt.label}”, image {image.index + 1}:")
        for kind, choice in DEMO_EDITS:
            price = edits.OFFERS[kind](image=image).price
            if price:
                credit_grant(user=user, amount=price, key=f"demo:{avatar.pk}:{kind}", reason="Demo credits")
            try:
                edit = edits.edit_order(user=user, avatar_id=avatar.pk, image_id=image.pk, kind=kind, **choice)
            except ApplicationError as exc:
                raise CommandError(f"{EditKind(kind).label}: {exc.message}") from exc
            self._wait_until_finished(avatar, timeout)
            edit.refresh_from_db()
            sizes = ", ".join(f"{made.width}x{made.height}" for made in edit.images.all())
            self.stdout.write(f"  {edit.label}: {edit.get_state_display().lower()}, "
                              f"{price} credit{pluralize(price)}, images {sizes or 'none'}")
            if edit.state != PromptState.DONE:
                raise CommandError(f"{edit.get_kind_display()} was not made: {edit.failure_reason}")
        size = profile_pictures.SIZES[0]
        for shape in profile_pictures.SHAPES:
            made = profile_pictures.profile_picture(image, shape=shape, size=size)
            self.stdout.write(f"  Profile picture, {shape}: {size} px {made.extension.upper()}, free")
        self.stdout.write("Edit page: " + settings.PUBLIC_URL + reverse("avatars:edit", args=[avatar.pk, image.pk]))
