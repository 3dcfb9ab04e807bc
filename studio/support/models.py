from django.conf import settings
from django.db import models

from studio.core.models import BaseModel


class SupportRequest(BaseModel):
    """A message from the contact form, kept only until it is in the support inbox."""

    class Topic(models.TextChoices):
        QUESTION = "question", "A question about the studio"
        AVATAR = "avatar", "One of my avatars"
        CREDITS = "credits", "Credits or a payment"
        PRIVACY = "privacy", "My data or deleting it"
        OTHER = "other", "Something else"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    email = models.EmailField()
    topic = models.CharField(max_length=16, choices=Topic, default=Topic.QUESTION)
    message = models.TextField(max_length=4000)

    def __str__(self) -> str:
        return f"{self.get_topic_display()} from {self.email}"
