"""The pages a customer reads before trusting the studio, and the way to reach its people."""

import pytest
from django.core import mail
from django.urls import reverse

from studio.support.models import SupportRequest

pytestmark = pytest.mark.django_db

PAGES = ["support:privacy", "support:terms", "support:faq", "support:contact"]


def text(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.mark.parametrize("name", PAGES)
def test_every_page_is_open_to_visitors_and_linked_from_every_footer(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
    footer = response.content.decode().split('class="container site-footer"')[1]
    for page in PAGES:
        assert f'href="{reverse(page)}"' in footer


def test_the_footer_and_sign_up_link_the_terms_and_privacy(client, user):
    signup = client.get(reverse("account_signup")).content.decode()
    form_part = signup.split('class="container site-footer"')[0]  # in the page itself, not only the footer
    assert f'href="{reverse("support:terms")}"' in form_part and f'href="{reverse("support:privacy")}"' in form_part
    client.force_login(user)
    for page in (reverse("landing"), reverse("avatars:list"), reverse("credits:buy")):
        assert f'href="{reverse("support:contact")}"' in client.get(page).content.decode()


def test_the_privacy_page_states_the_numbers_the_studio_runs_on(client, settings):
    settings.PHOTOS_RETENTION_DAYS = 3
    settings.DRAFT_RETENTION_DAYS = 12
    settings.LOGIN_KNOWN_ADDRESS_DAYS = 45

    page = text(client.get(reverse("support:privacy")))

    assert "deleted 3 days after your model is trained" in page
    assert "untouched for 12 days" in page and "for 45 days" in page
    assert "kept by your browser for at most 5 minutes" in page and "no-store" in page
    # Face descriptors: biometric data, kept only with their photo, never sent to Astria or logged.
    assert "biometric data" in page and "Neither is ever sent to Astria or written to our logs" in page
    assert "30 days after training" in page  # the face an avatar's photos agree on, kept for its portraits


def test_the_faq_answers_likeness_refunds_and_deletion(client, settings):
    settings.PHOTOS_RETENTION_DAYS = 1
    page = text(client.get(reverse("support:faq")))

    assert "What if a portrait doesn\u2019t look like me?" in page
    assert "re-generated once for free; if it fails again, its credits come back to you as a refund" in page
    assert "deleted by themselves 1 day after training" in page
    assert "an avatar with 6 styles = 8 credits" in page


def test_a_message_reaches_the_support_inbox_with_replies_to_the_customer(
    client, user, settings, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAIL = "help@studio.example"
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("support:contact"),
            {"email": user.email, "topic": "credits", "message": "My credits did not arrive <b>today</b> & I paid."},
        )

    assert response.status_code == 302 and response.url == reverse("support:contact_sent")
    (email,) = mail.outbox
    assert email.to == ["help@studio.example"] and email.reply_to == [user.email]
    assert "Credits or a payment" in email.subject
    assert "My credits did not arrive <b>today</b> & I paid." in email.body  # as written, not escaped
    assert f"account {user.pk}" in email.body
    assert not SupportRequest.objects.exists()  # the inbox is its only copy


def test_a_visitor_must_give_an_address_and_say_enough(client):
    response = client.post(reverse("support:contact"), {"email": "", "topic": "question", "message": "hi"})

    assert response.status_code == 422
    page = text(response)
    assert "This field is required." in page and "Tell us a little more" in page
    assert not mail.outbox and not SupportRequest.objects.exists()


def test_the_contact_form_is_rate_limited(client, settings, django_capture_on_commit_callbacks):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "support": "2/h"}
    data = {"email": "someone@example.test", "topic": "question", "message": "Can I use the portraits on LinkedIn?"}

    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post(reverse("support:contact"), data).status_code for _ in range(3)]

    assert answers == [302, 302, 429]
    assert len(mail.outbox) == 2
