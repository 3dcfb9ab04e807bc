"""The face identity engine: who is in a picture, and is it the same person as in another.

Pure Python on dlib, numpy and Pillow (no Django, no database): the images worker analyses each
uploaded photo with it, `studio.photos.judgement` judges a training set from the stored analyses,
and delivered portraits are scored against the set's identity.

Models: dlib's HOG frontal face detector (built into dlib), and from the `face_recognition_models`
package only its two CC0 models, `shape_predictor_5_face_landmarks.dat` (eyes' corners and the
nose) and `dlib_face_recognition_resnet_model_v1.dat` (128-d descriptors); the package's licence
file is CC0 1.0. Not the 68-point predictor (trained on data licensed for research only) and not
the CNN detector (too slow without a GPU). They are loaded once per process, on first use,
behind a lock (`load_models`).

The API::

    from studio import faces

    analysis = faces.analyse(img)            # img: an RGB PIL image, the normalised photo
    analysis.faces                           # largest first: Face(box, landmarks, descriptor,
                                             #   size, confidence, fingerprint, pose)
    analysis.largest, analysis.scene         # Scene(background, light, light_side) around it
    analysis.as_dict() / Analysis.from_dict  # JSON for storing with the photo (biometric data)

    faces.distance(a, b)                     # Euclidean, descriptors; < 0.6 is the same person
    faces.medoid(descriptors)                # index of the set's most central descriptor
    faces.likeness(distance, threshold=0.6)  # 0..1; 0.5 at the threshold (see its docstring)
    faces.same_shot(face_a, face_b, max_distance=..., min_similarity=...)
    faces.picture_similarity(fp_a, fp_b)     # -1..1 of two aligned-face fingerprints, mirror included
    faces.score(img, identity, threshold=0.6)  # Score(face_found, distance, likeness) of a
                                             #   generated image's largest face

A set's identity (what delivered portraits are scored against) is
`studio.photos.selectors.photo_set_identity(avatar=...)`; `studio.photos.judgement.judge` gives
it too, with each photo's distance to it.

Thresholds are arguments, never read here: the studio's values are the `PHOTOS_*` settings.

Cost on a 2-core machine: a few tenths of a second per photo (detection on a 640 px copy, then a
larger one if that finds nothing; landmarks and the descriptor per face), about 50 MB per photo,
and about 35 MB for the models, once per process. `make bench` measures it (`bench_faces`).

Privacy: a descriptor and a fingerprint identify a person. They are kept only in the photo's
row, deleted with it, and never logged or sent anywhere.
"""

from studio.faces.engine import (
    Analysis,
    Face,
    Pose,
    Scene,
    Score,
    analyse,
    distance,
    likeness,
    load_models,
    medoid,
    picture_similarity,
    same_shot,
    score,
)

__all__ = [
    "Analysis",
    "Face",
    "Pose",
    "Scene",
    "Score",
    "analyse",
    "distance",
    "likeness",
    "load_models",
    "medoid",
    "picture_similarity",
    "same_shot",
    "score",
]
