import pytest

from studio.avatars.models import SubjectClass
from studio.themes import prompting
from studio.themes.exceptions import PromptRejected

BRANCH_TOKENS = {"fast": "sks", "sd15": "sks", "sdxl1": "ohwx", "flux1": "ohwx"}


@pytest.fixture
def branch(settings, request):
    """Settings as the settings module computes them for a branch."""
    settings.ASTRIA_BRANCH = request.param
    settings.ASTRIA_TOKEN = BRANCH_TOKENS[request.param]
    return request.param


# --- Expansion ---------------------------------------------------------------------------------


@pytest.mark.parametrize("branch", list(BRANCH_TOKENS), indirect=True)
@pytest.mark.parametrize("subject_class", SubjectClass.values)
def test_subject_expands_to_the_branch_token_and_the_class(branch, subject_class):
    token = prompting.token_for_branch(branch)
    text = prompting.expand("a portrait of {subject} in the rain", subject_class=subject_class, token=token)

    assert token == BRANCH_TOKENS[branch]
    assert text == f"a portrait of {BRANCH_TOKENS[branch]} {subject_class} in the rain"


@pytest.mark.parametrize("branch", list(BRANCH_TOKENS), indirect=True)
@pytest.mark.parametrize("subject_class", SubjectClass.values)
def test_text_sent_to_astria_wraps_lora_branches_only(branch, subject_class):
    text = prompting.expand(
        "{subject} on a beach", subject_class=subject_class, token=prompting.token_for_branch(branch)
    )

    sent = prompting.astria_prompt_text(text=text, branch=branch, tune_id=4242)

    if branch == "flux1":
        assert sent == f"<lora:4242:1> ohwx {subject_class} on a beach"
    else:
        assert sent == text


def test_configured_token_wins_for_the_configured_branch(settings):
    settings.ASTRIA_BRANCH, settings.ASTRIA_TOKEN = "sd15", "zwx"

    assert prompting.token_for_branch("sd15") == "zwx"
    assert prompting.token_for_branch("flux1") == "ohwx"


@pytest.mark.parametrize(
    ("aspect", "branch", "size"),
    [
        ("4:5", "sd15", (512, 640)),
        ("2:3", "fast", (512, 768)),
        ("3:2", "sd15", (768, 512)),
        ("1:1", "sd15", (512, 512)),
        ("4:5", "flux1", (896, 1152)),
        ("1:1", "sdxl1", (1024, 1024)),
        ("16:9", "sdxl1", (1344, 768)),
    ],
)
def test_aspect_ratios_become_sizes_in_multiples_of_eight(aspect, branch, size):
    width, height = prompting.dimensions(aspect, branch=branch)

    assert (width, height) == size
    assert width % 8 == 0 and height % 8 == 0


# --- Subject insertion -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "subject_class", "template"),
    [
        ("me as an astronaut", "man", "{subject} as an astronaut"),
        ("a watercolor painting of me", "man", "a watercolor painting of {subject}"),
        ("myself riding a horse on the beach", "man", "{subject} riding a horse on the beach"),
        ("I am a pirate captain", "man", "{subject} as a pirate captain"),
        ("I'm surfing a huge wave", "woman", "{subject} surfing a huge wave"),
        ("I\u2019m the queen of a snowy castle", "woman", "{subject} as the queen of a snowy castle"),
        ("@me in Paris at night", "woman", "{subject} in Paris at night"),
        ("me holding my guitar on stage", "woman", "{subject} holding her guitar on stage"),
        ("me and my dog at the beach", "man", "{subject} and his dog at the beach"),
        ("my dog wearing sunglasses", "dog", "{subject} wearing sunglasses"),
        ("the puppy playing in autumn leaves", "dog", "{subject} playing in autumn leaves"),
        ("a cat sitting on a velvet throne", "cat", "{subject} sitting on a velvet throne"),
        ("a dog chasing my cat in the garden", "cat", "a dog chasing {subject} in the garden"),
        ("me as a lion", "dog", "{subject} as a lion"),
        ("my daughter as a fairy princess", "girl", "{subject} as a fairy princess"),
        ("portrait of us at our wedding", "couple", "portrait of {subject} at their wedding"),
        ("Me and my wife dancing in the rain", "couple", "{subject} dancing in the rain"),
        ("we are astronauts on the moon", "couple", "{subject} astronauts on the moon"),
        ("meme style picture of me", "man", "meme style picture of {subject}"),
        ("astronaut floating in space", "man", "{subject}, astronaut floating in space"),
        ("a flag of the US behind me", "person", "a flag of the US behind {subject}"),
    ],
)
def test_subject_goes_where_the_user_referred_to_it(typed, subject_class, template):
    assert prompting.insert_subject(typed, subject_class=subject_class) == template


def test_custom_prompt_final_text_has_token_class_and_quality_terms(settings):
    settings.THEMES_QUALITY_SUFFIX = "highly detailed, sharp focus"
    built = prompting.build_custom_prompt("me as a jazz singer, sharp focus", subject_class="woman")

    final = prompting.custom_prompt_final_text(built.template, subject_class="woman", token="sks")

    assert final == "sks woman as a jazz singer, sharp focus, highly detailed"


# --- Cleaning ----------------------------------------------------------------------------------


def test_cleaning_removes_control_characters_markup_and_extra_whitespace():
    typed = "  me\tas a\u200b  knight\n\n<lora:999:1> in {{armour}} --upscale_v4 --strength 0.5 \x07 "

    assert prompting.clean_text(typed) == "me as a knight in armour"


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("me as a knight,--video 5", "me as a knight"),
        ("me (--upscale_v4) in armour", "me in armour"),
        ("x--fix_bindi me on a horse", "x me on a horse"),
        ("me as a knight,--tiled, in the rain", "me as a knight, in the rain"),
        ("me ---video 5 on a boat", "me on a boat"),
        ("me [--ar 16:9] at sunset", "me at sunset"),
        ("me \u2014-strength=0.5 smiling", "me smiling"),
        ("me at a well-known café", "me at a well-known café"),
    ],
)
def test_astria_flags_are_removed_wherever_they_stand(typed, cleaned):
    built = prompting.build_custom_prompt(typed, subject_class="man")

    assert built.cleaned == cleaned
    assert "--" not in prompting.custom_prompt_final_text(built.template, subject_class="man", token="sks")


def test_cleaning_cuts_long_text_at_a_whole_word():
    cleaned = prompting.clean_text("me " + "walking along the shore " * 30, max_chars=40)

    assert len(cleaned) <= 40
    assert cleaned == "me walking along the shore walking along"


def test_empty_or_subject_only_prompts_are_refused():
    with pytest.raises(PromptRejected, match="Describe the picture"):
        prompting.build_custom_prompt(" \n<lora:1:1> ", subject_class="man")
    with pytest.raises(PromptRejected, match="Say a little more"):
        prompting.build_custom_prompt("myself", subject_class="man")


# --- Forbidden content -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "me naked on a beach",
        "NUDE portrait of me",
        "me in sexy lingerie",
        "me, nsfw",
        "topless me",
        "me with no   clothes on",
        "nudes of me",
        "me with a swastika flag",
    ],
)
def test_forbidden_words_are_refused_with_the_word_named(typed):
    with pytest.raises(PromptRejected) as refused:
        prompting.build_custom_prompt(typed, subject_class="woman")

    assert "is not allowed" in refused.value.message
    assert "“" in refused.value.message


@pytest.mark.parametrize(
    "typed",
    [
        "me walking through Essex in the rain",
        "me as a data analyst",
        "me in Sussex",
        "me with a sextant on a ship",
        "me at the Middlesex cricket ground",
        "me reading an analysis",
        "my dog in a butterfly garden",
        "me with a nudibranch in the reef",
    ],
)
def test_innocent_words_that_contain_forbidden_ones_are_allowed(typed):
    assert prompting.build_custom_prompt(typed, subject_class="woman").cleaned == typed


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("me, and my nakedness", "nakedness"),
        ("nud3 portrait of me", "nud3"),
        ("t0pless me on a beach", "t0pless"),
        ("me top-less on a beach", "top-less"),
        ("me as a p0rn actor", "p0rn"),
        ("me as a pornstar", "pornstar"),
        ("me un-dressed", "un-dressed"),
        ("me, sexx", "sexx"),
        ("a boob", "boob"),
        ("me in the buff", "in the buff"),
        ("me in my birthday suit", "birthday suit"),
        ("me bare chested on a horse", "bare chested"),
        ("me bare-chested on a horse", "bare-chested"),
        ("me n\u0430ked", "n\u0430ked"),  # a Cyrillic a
        ("me n\u00e4ked", "n\u00e4ked"),
        ("me na\u0308ked", "n\u00e4ked"),  # a combining diaeresis, composed by the cleaning
        ("me n@ked", "n@ked"),
        ("me \uff4e\uff41\uff4b\uff45\uff44", "naked"),  # full-width, made plain by the cleaning
        ("me nuuude", "nuuude"),
        ("me in a sexxy pose", "sexxy"),
        ("me t0p1ess", "t0p1ess"),
        ("me s_e_x_y", "s_e_x"),
        ("me, naked!", "naked"),
    ],
)
def test_disguised_forbidden_words_are_refused_with_the_word_named_as_typed(typed, named):
    with pytest.raises(PromptRejected) as refused:
        prompting.build_custom_prompt(typed, subject_class="man")

    assert refused.value.message.startswith(f"“{named}” is not allowed")


@pytest.mark.parametrize(
    "typed",
    [
        "me in the Sussex countryside",
        "me in Essex",
        "me at a cocktail party",
        "me walking through Scunthorpe",
        "me in Assassin's Creed",
        "our class photo",
        "me with an analytics dashboard",
        "me reading the annals of history",
        "me next to a booby trap",
        "me with a blue-footed booby",
        "me eating chicken breast",
        "me as a breaststroke swimmer",
        "me in a buff leather coat",
        "me at a birthday party in a suit",
        "me barefoot on a bare hillside",
        "me looking through a see-saw",
        "me as a sexton in a village church",
        "me in a 1990s 3d render, 4k",
        "me at a 50s diner with an mp3 player",
        "me as Dick Van Dyke",
        "wow!! me in Paris!!",
        "me with c3po and r2d2",
        "me with a titmouse",
        "me as a sexagenarian",
    ],
)
def test_ordinary_prompts_are_not_refused(typed):
    assert prompting.build_custom_prompt(typed, subject_class="man").cleaned == typed


def test_the_default_list_is_the_data_file_and_its_comments_are_not_words(settings):
    settings.THEMES_FORBIDDEN_WORDS = None

    words = prompting.forbidden_words()
    lines = prompting.FORBIDDEN_WORDS_FILE.read_text(encoding="utf-8").splitlines()

    assert "naked*" in words and "in the buff" in words and "*porn*" in words
    assert not any(word.startswith("#") or not word for word in words)
    assert len(words) == sum(1 for line in lines if line.strip() and not line.startswith("#"))


def test_forbidden_words_hidden_with_invisible_characters_are_still_refused():
    with pytest.raises(PromptRejected):
        prompting.build_custom_prompt("me na\u200bked", subject_class="man")


@pytest.mark.parametrize("typed", ["me as a n.u.d.e model", "me a n u d e painting", "me N-A-K-E-D on a beach"])
def test_forbidden_words_spelled_out_letter_by_letter_are_refused(typed):
    with pytest.raises(PromptRejected) as refused:
        prompting.build_custom_prompt(typed, subject_class="woman")

    assert "is not allowed" in refused.value.message


@pytest.mark.parametrize("typed", ["me in the U.S.A. at night", "me with a b c blocks", "me as an R&B singer, 1 2 3"])
def test_initials_and_letter_sequences_that_spell_nothing_forbidden_are_allowed(typed):
    assert prompting.build_custom_prompt(typed, subject_class="woman").cleaned == typed


def test_forbidden_word_list_is_configurable(settings):
    settings.THEMES_FORBIDDEN_WORDS = ["clown", " hot dog"]  # as env.list reads "clown, hot dog"

    assert prompting.forbidden_reason("me as a scary clown") is not None
    assert prompting.forbidden_reason("me eating a hot   dog") is not None
    assert prompting.forbidden_match("me as a cl0wn") == "cl0wn"
    assert prompting.forbidden_reason("me naked") is None


# --- Negative prompts and labels ---------------------------------------------------------------


def test_negative_prompt_defaults_and_always_carries_the_safety_terms(settings):
    settings.THEMES_DEFAULT_NEGATIVE_PROMPT = "blurry, lowres"
    settings.THEMES_SAFETY_NEGATIVE_PROMPT = "nsfw, nudity"

    assert prompting.negative_prompt() == "blurry, lowres, nsfw, nudity"
    assert prompting.negative_prompt("cartoon, NSFW") == "cartoon, NSFW, nudity"


def test_short_label_keeps_the_first_words():
    assert prompting.short_label("me as a pirate captain on a stormy sea") == "me as a pirate captain on…"
    assert prompting.short_label("me in Paris") == "me in Paris"


@pytest.mark.parametrize(
    ("text", "name", "shown"),
    [
        ("portrait of sks woman, golden hour", "Ada", "portrait of Ada, golden hour"),
        ("OHWX dog surfing a big wave", "Biscuit", "Biscuit surfing a big wave"),
        ("sks couple dancing, sks", "Ada & Alan", "Ada & Alan dancing, Ada & Alan"),
        ("headshot of sks man", "Me", "headshot of you"),
        ("the asks of sksy words stay", "Ada", "the asks of sksy words stay"),
    ],
)
def test_customers_read_the_avatars_name_where_the_trigger_word_stands(text, name, shown):
    assert prompting.for_customer(text, name=name) == shown


def test_the_configured_token_is_hidden_too(settings):
    settings.ASTRIA_TOKEN = "zwx"
    assert prompting.for_customer("zwx person at the beach", name="Sam") == "Sam at the beach"
