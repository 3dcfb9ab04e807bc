import pytest

from bench.scale_seed import seed
from studio.avatars.models import IN_FLIGHT, Avatar, GeneratedImage, Prompt, PromptState
from studio.credits.selectors import wallets_out_of_balance

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_seeded_studio_is_one_the_studio_could_have_written():
    seeded = seed(200)

    assert Avatar.objects.count() == 200 and Avatar.objects.filter(user_id=seeded.big_user_id).count() == 50
    assert Avatar.objects.filter(state__in=IN_FLIGHT).count() == seeded.in_flight == 20
    assert GeneratedImage.objects.count() == 8 * Prompt.objects.filter(state=PromptState.DONE).count()
    assert not wallets_out_of_balance().exists()
    assert seeded.counts["avatars"] == 200 and seeded.counts["images"] == GeneratedImage.objects.count()
