"""What Astria is asked for each paid edit (why each is asked this way: `edits.py`).

Called by the prompts' submission for a pending edit; the answer is Astria's new prompt, which
the callbacks and the reconciler follow like any other. Pictures go to Astria as uploads
(`prompt[input_image]`), never as links to our private storage.
"""

import io
import math

from PIL import Image

from studio.astria.client import AstriaClient
from studio.astria.errors import AstriaNotFound, AstriaRejected
from studio.astria.types import Prompt as AstriaPrompt
from studio.avatars.edits import EXTEND_SHAPES
from studio.avatars.models import Avatar, EditKind, GeneratedImage, Prompt
from studio.themes.prompting import astria_prompt_text

# Astria's `aspect_ratio` values (ASTRIA-EDIT.md section 7); a touch-up keeps its picture's shape.
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "21:9", "9:21", "3:2", "2:3", "5:4", "4:5", "4:3", "3:4")
TOUCHUP_INPUT_SIDE = 2048  # px: the long side of the picture a touch-up starts from, at most
# Appended to the instruction, as Astria's own skills word their edits (section 6c).
TOUCHUP_KEEP = "Keep the person's face, expression and pose, and everything not mentioned, unchanged."


def edit_create_at_astria(
    client: AstriaClient, *, avatar: Avatar, prompt: Prompt, tune_id: int, callback: str
) -> AstriaPrompt:
    """Create the edit's prompt at Astria; AstriaRejected when it cannot be made at all."""
    source = prompt.source_image
    if source is None or source.prompt.astria_prompt_id is None:
        raise AstriaRejected("the image this edit was made from is gone", status=404)
    if prompt.kind == EditKind.EXTEND:
        shape = EXTEND_SHAPES[prompt.edit_option]
        flags = f"--outpaint {shape.anchor} --outpaint_width {shape.width} --outpaint_height {shape.height}"
        return client.create_prompt(
            tune_id=tune_id,
            text=astria_prompt_text(text=f"{prompt.text} {flags}", branch=avatar.branch, tune_id=avatar.tune_id),
            num_images=prompt.num_images,
            seed=prompt.seed,
            denoising_strength=0,  # outpaint only: the portrait itself is not painted again
            input_image=("portrait.jpg", input_picture(source, fit=shape.fit)),
            callback=callback,
        )
    if prompt.kind == EditKind.TOUCHUP:
        return client.create_prompt(
            tune_id=prompt.astria_tune_id,
            text=f"{prompt.text.rstrip(' .')}. {TOUCHUP_KEEP}",
            num_images=prompt.num_images,
            seed=prompt.seed,
            aspect_ratio=nearest_aspect_ratio(source.width, source.height),
            input_image=("portrait.jpg", input_picture(source, fit=(TOUCHUP_INPUT_SIDE, TOUCHUP_INPUT_SIDE))),
            callback=callback,
        )
    # More like this with a new seed, Bigger with super resolution on (the image re-used).
    try:
        return client.duplicate_prompt(
            source.prompt.astria_prompt_id,
            image_index=source.index,
            seed=prompt.seed,
            num_images=prompt.num_images,
            super_resolution=(prompt.kind == EditKind.BIGGER) or None,
            callback=callback,
        )
    except AstriaNotFound as exc:  # its prompt is gone at Astria: nothing to make it from
        raise AstriaRejected(exc.message, status=exc.status) from exc


def input_picture(image: GeneratedImage, *, fit: tuple[int, int]) -> bytes:
    """The stored image as a JPEG, scaled down to fit the box if larger, for Astria's input_image."""
    try:
        with image.image.open("rb") as handle:
            picture = Image.open(handle)
            picture.load()
    except (FileNotFoundError, OSError) as exc:
        raise AstriaRejected("the image this edit was made from cannot be read", status=404) from exc
    picture = picture.convert("RGB")
    scale = min(1.0, fit[0] / picture.width, fit[1] / picture.height)
    size = (max(8, round(picture.width * scale)), max(8, round(picture.height * scale)))
    if size != picture.size:
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=92)
    return out.getvalue()


def nearest_aspect_ratio(width: int, height: int) -> str:
    """The Astria aspect ratio closest to width:height."""

    def distance(ratio: str) -> float:
        w, h = (int(part) for part in ratio.split(":"))
        return abs(math.log((w / h) / (width / height)))

    return min(ASPECT_RATIOS, key=distance)
