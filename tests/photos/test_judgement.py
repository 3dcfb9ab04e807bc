from studio import faces
from studio.photos import judgement, samples
from studio.photos.judgement import COUPLE, PERSON, Member, SetLimits
from tests.faces import photographs

LIMITS = SetLimits(
    same_person_max_distance=0.6,
    same_shot_max_distance=0.35,
    same_shot_min_similarity=0.93,
    duplicate_max_distance=4,
    variety={"pose": 0.12, "look": 0.3, "background": 30.0, "light": 20.0, "low": 0.35},
)


def real(name: str, edit: str = "original", *, label: str | None = None) -> Member:
    label = label or f"{name}-{edit}.jpg"
    return Member(key=label, name=label, analysis=photographs.analysis(name, edit))


def shot(index: int) -> Member:
    return Member(key=f"shot-{index}.jpg", name=f"shot-{index}.jpg", analysis=faces.analyse(samples.shot(index)))


def codes(result: judgement.Judgement) -> dict[str, list[str]]:
    return {key: [f.code for f in found] for key, found in result.findings.items() if found}


def test_one_photo_of_another_person_is_refused_and_only_that_one():
    members = [real("astronaut"), real("astronaut", "flipped_cropped", label="second.jpg"),
               real("hopper", label="grace.jpg"), real("astronaut", "warmer", label="third.jpg")]

    result = judgement.judge(members, subject=PERSON, limits=LIMITS)

    refused = {key for key, found in result.findings.items() if any(f.level == "refuse" for f in found)}
    assert refused == {"grace.jpg"}
    (finding,) = result.findings["grace.jpg"]
    assert finding.code == "someone_else"
    assert "astronaut-original.jpg" in finding.message  # the photos that agree are named
    assert "grace.jpg" not in result.counted
    assert result.distances["grace.jpg"] > 0.6 > result.distances["astronaut-original.jpg"]


def test_the_identity_is_the_majority_whatever_comes_first():
    members = [real("hopper", label="grace.jpg"), *(shot(index) for index in range(3))]

    result = judgement.judge(members, subject=PERSON, limits=LIMITS)

    assert codes(result) == {"grace.jpg": ["someone_else"]}
    assert result.counted == {"shot-0.jpg", "shot-1.jpg", "shot-2.jpg"}
    assert faces.distance(result.identity, photographs.face("astronaut").descriptor) < 0.6


def test_six_copies_of_one_photo_count_once():
    edits = ("original", "flipped", "cropped", "brighter", "smaller", "recompressed")
    members = [real("astronaut", edit) for edit in edits]

    result = judgement.judge(members, subject=PERSON, limits=LIMITS)

    assert result.counted == {"astronaut-original.jpg"}
    for member in members[1:]:
        (finding,) = result.findings[member.key]
        assert finding.code == "same_shot" and finding.level == "warn"
        assert "astronaut-original.jpg" in finding.message
        assert result.repeats[member.key] == "astronaut-original.jpg"


def test_a_copy_of_another_persons_photo_is_refused_with_it():
    members = [*(shot(index) for index in range(3)), real("hopper"), real("hopper", "flipped")]

    result = judgement.judge(members, subject=PERSON, limits=LIMITS)

    assert codes(result) == {"hopper-original.jpg": ["someone_else"], "hopper-flipped.jpg": ["someone_else"]}


def test_different_shots_of_one_person_all_count():
    result = judgement.judge([shot(index) for index in range(samples.SHOTS)], subject=PERSON, limits=LIMITS)

    assert codes(result) == {}
    assert len(result.counted) == samples.SHOTS


def test_a_couples_photos_are_checked_for_repeated_shots_but_not_for_one_identity():
    members = [real("astronaut"), real("hopper"), real("astronaut", "flipped")]

    result = judgement.judge(members, subject=COUPLE, limits=LIMITS)

    assert codes(result) == {"astronaut-flipped.jpg": ["same_shot"]}
    assert result.counted == {"astronaut-original.jpg", "hopper-original.jpg"}


def test_edits_of_one_photo_are_too_uniform_and_get_advice():
    result = judgement.judge([shot(0), shot(5), shot(6)], subject=PERSON, limits=LIMITS)

    assert result.variety is not None and result.variety.advice
    assert any("background" in advice for advice in result.variety.advice)


def test_a_varied_set_scores_higher_than_a_uniform_one():
    uniform = judgement.variety([shot(0), shot(5), shot(6)], limits=LIMITS)
    varied = judgement.variety([shot(0), shot(3), shot(4), real("astronaut", "darker")], limits=LIMITS)

    assert varied.pose > uniform.pose
    assert varied.overall > uniform.overall


def test_a_set_of_one_has_no_variety_to_measure():
    assert judgement.variety([shot(0)], limits=LIMITS) is None


def test_photos_checked_before_faces_were_described_keep_counting():
    members = [Member(key="old.jpg", name="old.jpg"), shot(0)]

    result = judgement.judge(members, subject=PERSON, limits=LIMITS)

    assert result.counted == {"old.jpg", "shot-0.jpg"} and codes(result) == {}
