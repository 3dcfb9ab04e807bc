import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from studio.avatars.models import Avatar, SubjectClass

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class AvatarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Avatar

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Subject {n}")
    subject_class = SubjectClass.WOMAN
