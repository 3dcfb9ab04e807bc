"""The avatar admin: the record with its callback log, and the staff actions through the services."""

import json
import uuid

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.astria.errors import AstriaNotFound, AstriaTransient
from studio.avatars import callbacks, reconcile, services
from studio.avatars.models import AstriaTuneDeletion, AvatarState, CallbackEvent
from studio.credits.selectors import credit_balance
from tests.avatars.factories import PromptFactory
from tests.factories import AvatarFactory, UserFactory

pytestmark = pytest.mark.django_db


def change_url(avatar) -> str:
    return reverse("admin:avatars_avatar_change", args=[avatar.pk])


def run_action(staff_client, action: str, *avatars, capture):
    with capture(execute=True):
        response = staff_client.post(
            reverse("admin:avatars_avatar_changelist"),
            {"action": action, ACTION_CHECKBOX_NAME: [str(avatar.pk) for avatar in avatars]},
            follow=True,
        )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_the_avatar_page_shows_the_callback_log_with_tokens_redacted(staff_client, client, submitted):
    token = callbacks.token_for(kind="tune", nonce=submitted.callback_nonce)
    body = {"tune": {"id": submitted.tune_id, "callback": f"https://studio.test/astria/callbacks/{token}/"}}
    client.post(reverse("astria_callback", args=[token]), json.dumps(body), content_type="application/json")

    html = staff_client.get(change_url(submitted)).content.decode()

    assert str(submitted.tune_id) in html and "/astria/callbacks/[redacted]" in html
    assert token not in html
    assert submitted.callback_nonce not in html and submitted.callback_token_hash not in html


def test_the_avatar_page_costs_the_same_with_many_prompts_and_callbacks(staff_client):
    avatar = AvatarFactory(state=AvatarState.DONE, tune_id=4242)

    def add(count: int) -> None:
        for _ in range(count):
            prompt = PromptFactory(avatar=avatar)
            CallbackEvent.objects.create(
                kind=CallbackEvent.Kind.PROMPT, avatar=avatar, prompt=prompt, digest=uuid.uuid4().hex, body="{}"
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(change_url(avatar)).status_code == 200
        return len(captured)

    add(1)
    one = queries()
    add(29)
    assert queries() == one


def test_redrive_asks_astria_again_and_moves_a_stuck_avatar_on(
    staff_client, submitted, studio_on_sandbox, django_capture_on_commit_callbacks
):
    studio_on_sandbox.train_now(submitted.tune_id)  # trained at Astria; its callback never came

    messages = run_action(staff_client, "redrive", submitted, capture=django_capture_on_commit_callbacks)

    submitted.refresh_from_db()
    assert "1 avatar(s) re-driven." in messages
    assert submitted.state in (AvatarState.GENERATING, AvatarState.DONE)
    assert submitted.trained_at is not None


def test_refund_stops_an_unfinished_avatar_and_gives_every_credit_back(
    staff_client, user, submitted, django_capture_on_commit_callbacks
):
    paid = 50 - credit_balance(user=user)
    assert paid > 0

    messages = run_action(staff_client, "refund", submitted, capture=django_capture_on_commit_callbacks)
    again = run_action(staff_client, "refund", submitted, capture=django_capture_on_commit_callbacks)

    submitted.refresh_from_db()
    assert submitted.state == AvatarState.FAILED and "support team stopped it" in submitted.failure_reason
    assert credit_balance(user=user) == 50
    assert f"{paid} credit(s) refunded." in messages and "0 credit(s) refunded." in again


def test_delete_at_astria_removes_the_tune_there_and_keeps_our_records(
    staff_client, submitted, studio_on_sandbox, django_capture_on_commit_callbacks
):
    messages = run_action(staff_client, "delete_at_astria", submitted, capture=django_capture_on_commit_callbacks)

    assert "1 tune(s) queued for deletion at Astria." in messages
    assert AstriaTuneDeletion.objects.get(tune_id=submitted.tune_id).done_at is not None
    with pytest.raises(AstriaNotFound):
        studio_on_sandbox.client().get_tune(submitted.tune_id)
    submitted.refresh_from_db()
    assert submitted.tune_id is not None and submitted.prompts.exists()


def test_a_tune_deletion_astria_fails_shows_the_error_until_an_attempt_succeeds(
    staff_client, astria_sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        services.astria_tune_delete_later(tune_id=424242)
    astria_sandbox.fail_next(1, 500, scope="any")
    with pytest.raises(AstriaTransient):
        reconcile.astria_tune_delete(tune_id=424242)  # one attempt of the task, which retries it

    page = staff_client.get(reverse("admin:avatars_astriatunedeletion_changelist")).content.decode()
    assert "Astria answered 500 to DELETE /tunes/424242" in page

    reconcile.astria_tune_delete(tune_id=424242)  # the next attempt: a tune already gone counts as deleted
    deletion = AstriaTuneDeletion.objects.get(tune_id=424242)
    assert deletion.done_at is not None and deletion.last_error == "" and deletion.attempts == 2


# --- Permissions and deleting -----------------------------------------------------------------------


def _staff_with(*codenames: str):
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return staff


def _offered_actions(client) -> set[str]:
    response = client.get(reverse("admin:avatars_avatar_changelist"))
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def test_a_view_only_staff_member_is_offered_no_action_and_can_run_none(
    client, user, submitted, django_capture_on_commit_callbacks
):
    client.force_login(_staff_with("view_avatar", "view_wallet", "view_user"))
    balance = credit_balance(user=user)

    assert _offered_actions(client) == set()
    for action in ("refund", "delete_at_astria", "redrive", "delete_selected"):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("admin:avatars_avatar_changelist"),
                {"action": action, ACTION_CHECKBOX_NAME: [str(submitted.pk)], "post": "yes"},
            )
    assert client.post(reverse("admin:avatars_avatar_delete", args=[submitted.pk]), {"post": "yes"}).status_code == 403

    submitted.refresh_from_db()
    assert submitted.state == AvatarState.SUBMITTED and credit_balance(user=user) == balance
    assert not AstriaTuneDeletion.objects.exists()


def test_each_action_asks_for_its_own_permission_and_the_history_names_who_ran_it(
    client, user, submitted, django_capture_on_commit_callbacks
):
    from django.contrib.admin.models import LogEntry

    support = _staff_with("view_avatar", "refund_avatar")
    client.force_login(support)
    paid = 50 - credit_balance(user=user)
    assert _offered_actions(client) == {"refund"}

    messages = run_action(client, "refund", submitted, capture=django_capture_on_commit_callbacks)

    assert credit_balance(user=user) == 50 and any("refunded" in message for message in messages)
    entry = LogEntry.objects.get(object_id=str(submitted.pk))
    assert entry.user == support and entry.change_message == f"Refunded {paid} credit(s)."
    client.force_login(_staff_with("view_avatar", "change_avatar", "delete_avatar_tune", "delete_avatar"))
    assert _offered_actions(client) == {"redrive", "delete_at_astria", "delete_selected"}


def test_deleting_avatars_in_the_admin_removes_their_files_and_their_tunes_at_astria(
    staff_client, user, make_draft, studio_on_sandbox, settings, django_capture_on_commit_callbacks
):
    from pathlib import Path

    from studio.avatars.models import Avatar
    from tests.avatars.factories import GeneratedImageFactory, done_avatar

    astria = studio_on_sandbox.client()
    photo = ("a.jpg", GeneratedImageFactory.build().image.read())
    tunes = [astria.create_tune(title=f"t{i}", name="woman", images=[photo], branch="fast") for i in range(2)]
    single = done_avatar(user=user, prompts=1, images_per_prompt=2, tune_id=tunes[0].id)
    bulk = [done_avatar(user=user, prompts=1, images_per_prompt=1, tune_id=tunes[1].id), make_draft(user)]
    assert len([p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]) == 2 * 2 + 2 + 4 * 2

    with django_capture_on_commit_callbacks(execute=True):
        page = staff_client.get(reverse("admin:avatars_avatar_delete", args=[single.pk]))
        assert "Are you sure" in page.content.decode()
        staff_client.post(reverse("admin:avatars_avatar_delete", args=[single.pk]), {"post": "yes"})
        staff_client.post(
            reverse("admin:avatars_avatar_changelist"),
            {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(a.pk) for a in bulk], "post": "yes"},
        )

    assert not Avatar.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    for tune in tunes:
        assert AstriaTuneDeletion.objects.get(tune_id=tune.id).done_at is not None
        with pytest.raises(AstriaNotFound):
            astria.get_tune(tune.id)


@pytest.mark.parametrize(
    "model", ["avatars_prompt", "avatars_generatedimage", "avatars_astriatunedeletion", "photos_photo"]
)
def test_what_goes_with_an_avatar_cannot_be_deleted_on_its_own_in_the_admin(staff_client, model):
    from tests.avatars.factories import GeneratedImageFactory
    from tests.photos.factories import PhotoFactory

    made = {
        "avatars_prompt": lambda: PromptFactory(),
        "avatars_generatedimage": lambda: GeneratedImageFactory(),
        "avatars_astriatunedeletion": lambda: AstriaTuneDeletion.objects.create(tune_id=77),
        "photos_photo": lambda: PhotoFactory(),
    }[model]()

    response = staff_client.post(reverse(f"admin:{model}_delete", args=[made.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert type(made).objects.filter(pk=made.pk).exists()


def test_the_avatar_page_never_shows_the_identity_kept_for_scoring(staff_client, user):
    avatar = AvatarFactory(user=user, state=AvatarState.DONE, identity=[0.12345] * 128)
    PromptFactory(avatar=avatar, likeness_outcome="redo_passed")

    page = staff_client.get(change_url(avatar)).content.decode()

    assert avatar.name in page and "Generated again" in page  # the prompt's likeness outcome
    assert "0.12345" not in page and "identity" not in page.lower()
