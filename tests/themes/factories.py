import factory

from studio.avatars.models import SubjectClass
from studio.themes.models import ChosenTheme, CustomPrompt, PromptIdea, Theme
from tests.factories import AvatarFactory


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    slug = factory.Sequence(lambda n: f"test-theme-{n}")
    title = factory.Sequence(lambda n: f"Test theme {n}")
    description = "A theme made for a test."
    tags = factory.LazyFunction(lambda: ["photo"])
    subject_classes = factory.LazyFunction(lambda: list(SubjectClass.values))
    prompt = "portrait photo of {subject}, soft light, 85mm lens"
    negative_prompt = "blurry, lowres"
    position = factory.Sequence(lambda n: 10_000 + n)


class PromptIdeaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromptIdea

    slug = factory.Sequence(lambda n: f"test-idea-{n}")
    title = factory.Sequence(lambda n: f"Test idea {n}")
    text = "me on a mountain top at dawn"
    keywords = "mountain dawn"
    suits = PromptIdea.Suits.ALL
    position = factory.Sequence(lambda n: 10_000 + n)


class ChosenThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChosenTheme

    avatar = factory.SubFactory(AvatarFactory)
    theme = factory.SubFactory(ThemeFactory)


class CustomPromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomPrompt

    avatar = factory.SubFactory(AvatarFactory)
    text = factory.Sequence(lambda n: f"me as explorer number {n}")
    cleaned = factory.LazyAttribute(lambda o: o.text)
    template = factory.LazyAttribute(lambda o: o.text.replace("me", "{subject}", 1))
