"""The session engine (SESSION_ENGINE): Django's database sessions, stored with the user's id."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    # Same class name as Django's, so the signing salt and every existing session stay valid.

    @classmethod
    def get_model_class(cls):
        from accounts.models import Session  # noqa: PLC0415  (a session engine loads before the app registry)

        return Session

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            session.user_id = None
        return session
