import io

from django.core.mail import EmailMessage

from studio.core.mail import ConsoleEmailBackend


def test_a_console_email_reads_as_its_reader_sees_it_with_its_links_at_a_glance():
    out = io.StringIO()
    link = "http://127.0.0.1:8000/accounts/confirm-email/MQ:abc:def/"
    message = EmailMessage("Confirm your email address", f"Hello,\n\nOne click:\n\n{link}\n", to=["ada@example.test"])

    ConsoleEmailBackend(stream=out).send_messages([message])

    printed = out.getvalue()
    assert "Email to ada@example.test: Confirm your email address" in printed
    assert f"  ➜ {link}\n" in printed
    assert "Content-Transfer-Encoding" not in printed and "MIME-Version" not in printed
