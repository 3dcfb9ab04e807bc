import json
import threading

import numpy as np
import pytest
from PIL import Image

from studio import faces
from studio.photos import samples
from tests.faces import photographs
from tests.faces.photographs import EDITS, face

SAME_PERSON = 0.6  # dlib's threshold, PHOTOS_SAME_PERSON_MAX_DISTANCE's default
SAME_SHOT = {"max_distance": 0.35, "min_similarity": 0.93}  # PHOTOS_SAME_SHOT


def test_two_real_people_are_farther_apart_than_the_same_person_threshold():
    for edit in EDITS:
        assert faces.distance(face("astronaut", edit).descriptor, face("hopper").descriptor) > SAME_PERSON
        assert faces.distance(face("hopper", edit).descriptor, face("astronaut").descriptor) > SAME_PERSON


@pytest.mark.parametrize("name", ["astronaut", "hopper"])
def test_edits_of_a_photo_are_the_same_person_and_the_same_shot(name):
    original = face(name)
    for edit in EDITS:
        assert faces.distance(face(name, edit).descriptor, original.descriptor) < SAME_PERSON / 2
        assert faces.same_shot(face(name, edit), original, **SAME_SHOT), edit


def test_different_shots_of_one_face_are_not_the_same_shot():
    shots = [faces.analyse(samples.shot(index)).largest for index in range(samples.SHOTS)]

    for index, shot in enumerate(shots):
        assert faces.distance(shot.descriptor, face("astronaut").descriptor) < SAME_PERSON
        assert not any(faces.same_shot(shot, other, **SAME_SHOT) for other in shots[index + 1:])
    assert not faces.same_shot(face("astronaut"), face("hopper"), **SAME_SHOT)


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_a_cup_and_a_cat_have_no_face(name):
    assert photographs.analysis(name).faces == ()


def test_a_face_is_described_in_the_pixels_of_the_image_given():
    analysis = photographs.analysis("astronaut")
    (found,) = analysis.faces
    x, y, width, height = found.box

    assert (analysis.width, analysis.height) == photographs.photograph("astronaut").size
    # In the 512 px original the face is about 88 px wide at (179, 83); the photograph is 768 px.
    assert abs(x - 179 * 1.5) < 20 and abs(y - 83 * 1.5) < 20 and abs(width - 88 * 1.5) < 20
    assert all(x <= px <= x + width and y <= py <= y + height for px, py in found.landmarks)
    assert len(found.landmarks) == 5 and found.descriptor.shape == (128,)
    assert found.size == pytest.approx(width / 768)


def test_a_large_photo_is_analysed_on_a_smaller_copy_but_described_at_full_size():
    big = photographs.photograph("hopper", min_side=2048)
    small = photographs.photograph("hopper")

    large_face, small_face = faces.analyse(big).largest, face("hopper")

    scale = big.width / small.width
    assert large_face.box[2] == pytest.approx(small_face.box[2] * scale, rel=0.2)  # the detector's scale steps
    assert faces.distance(large_face.descriptor, small_face.descriptor) < 0.15


def test_a_face_too_small_for_the_first_scale_is_found_at_the_next():
    # 48 px wide in a 1000 px picture: under the detector's 80 px window until it upsamples.
    canvas = Image.new("RGB", (1000, 750), (120, 130, 140))
    head = photographs.photograph("astronaut", min_side=512).resize((280, 280), Image.Resampling.LANCZOS)
    canvas.paste(head, (400, 250))

    (found,) = faces.analyse(canvas).faces

    assert 35 < found.box[2] < 65
    assert faces.distance(found.descriptor, face("astronaut").descriptor) < SAME_PERSON


def test_the_head_pose_follows_the_landmarks():
    turned = [faces.analyse(samples.shot(index)).largest.pose.yaw for index in (3, 4)]  # turned both ways

    assert turned[0] > 0.1 and turned[1] < -0.05
    assert abs(face("astronaut").pose.yaw) < 0.08


def test_an_analysis_survives_its_trip_through_json():
    analysis = photographs.analysis("astronaut")

    again = faces.Analysis.from_dict(json.loads(json.dumps(analysis.as_dict())))

    assert faces.distance(again.largest.descriptor, analysis.largest.descriptor) < 1e-4
    assert again.largest.fingerprint == analysis.largest.fingerprint
    assert again.largest.box == analysis.largest.box and again.scene == faces.Scene.from_dict(analysis.scene.as_dict())


def test_the_medoid_is_the_most_central_member():
    points = [np.array([0.0, 0.0]), np.array([0.1, 0.0]), np.array([0.2, 0.0]), np.array([5.0, 0.0])]

    assert faces.medoid(points) == 1
    assert faces.medoid(points[:2]) == 0  # a tie goes to the earliest


@pytest.mark.parametrize(("gap", "score"), [(0.0, 1.0), (0.3, 1.0), (0.45, 0.75), (0.6, 0.5), (0.75, 0.25),
                                            (0.9, 0.0), (1.4, 0.0)])
def test_likeness_is_one_half_at_the_same_person_threshold(gap, score):
    assert faces.likeness(gap, threshold=SAME_PERSON) == pytest.approx(score)


def test_a_portrait_is_scored_against_the_sets_identity():
    identity = face("astronaut").descriptor

    alike = faces.score(photographs.photograph("astronaut", "flipped_cropped"), identity, threshold=SAME_PERSON)
    other = faces.score(photographs.photograph("hopper"), identity, threshold=SAME_PERSON)
    nobody = faces.score(photographs.photograph("coffee"), identity, threshold=SAME_PERSON)

    assert alike.face_found and alike.likeness > 0.8
    assert other.face_found and other.likeness < 0.5
    assert not nobody.face_found and nobody.likeness == 0 and nobody.distance is None


def test_the_models_are_loaded_once_per_process():
    assert faces.load_models() is faces.load_models()


def test_threads_can_analyse_at_the_same_time():
    # dlib's detector crashes the process when two threads run it at once: the engine takes turns.
    pictures = [photographs.photograph("astronaut", edit) for edit in ("original", "flipped", "darker")]
    results: list = [None] * len(pictures)

    def analyse(index: int) -> None:
        results[index] = faces.analyse(pictures[index]).largest

    threads = [threading.Thread(target=analyse, args=(index,)) for index in range(len(pictures))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert all(result is not None for result in results)
    assert faces.distance(results[0].descriptor, face("astronaut").descriptor) < 1e-4
