"""Astria's JSON shapes of a tune and a prompt, from the sandbox's rows.

The field names, types and formats are Astria's: ISO timestamps with milliseconds, `url` and file
URLs under the sandbox's base URL, images only once a prompt is done, a checkpoint URL only for a
trained checkpoint tune.
"""

import sqlite3
from datetime import UTC, datetime

EXPIRY_SECONDS = 30 * 24 * 3600


def iso(timestamp: float | None) -> str | None:
    """Astria's timestamp format: ISO 8601 in UTC with milliseconds and a Z."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tune_json(row: sqlite3.Row, *, base_url: str, image_count: int) -> dict:
    trained = row["trained_at"]
    checkpoint = trained is not None and not row["gallery"] and row["model_type"] is None
    ckpt_url = f"{base_url}/files/ckpt/{row['id']}/{row['file_key']}?X-Amz-Expires=3600" if checkpoint else None
    return {
        "id": row["id"],
        "title": row["title"],
        "name": row["name"],
        "is_api": not row["gallery"],
        "token": row["token"],
        "eta": iso(row["eta"]),
        "callback": row["callback"],
        "trained_at": iso(trained),
        "started_training_at": iso(row["started_training_at"]),
        "expires_at": iso(trained + EXPIRY_SECONDS) if trained is not None and not row["gallery"] else None,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "branch": row["branch"],
        "model_type": row["model_type"],
        "base_tune_id": row["base_tune_id"],
        "args": None,
        "steps": row["steps"],
        "face_crop": None if row["face_crop"] is None else bool(row["face_crop"]),
        "training_face_correct": None,
        "ckpt_url": ckpt_url,
        "ckpt_urls": [ckpt_url] if ckpt_url else [],
        "cost_mc": row["cost_mc"],
        "url": f"{base_url}/tunes/{row['id']}.json",
        "orig_images": [
            f"{base_url}/files/tunes/{row['id']}/{row['file_key']}/{index}" for index in range(image_count)
        ],
    }


def prompt_json(
    row: sqlite3.Row,
    *,
    base_url: str,
    tune: sqlite3.Row | None,
    referenced: list[sqlite3.Row],
    likes: int,
    liked: bool,
) -> dict:
    """`tune` is the prompt's tune and `referenced` the tunes its LoRA tags name (id and title)."""
    done = row["trained_at"] is not None
    base = f"{base_url}/files/prompts/{row['id']}/{row['file_key']}"
    return {
        "id": row["id"],
        "callback": row["callback"],
        "trained_at": iso(row["trained_at"]),
        "started_training_at": iso(row["started_training_at"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "tune_id": row["tune_id"],
        "orig_prompt_id": row["orig_prompt_id"],
        "text": row["text"],
        "negative_prompt": row["negative_prompt"],
        "cfg_scale": row["cfg_scale"],
        "steps": row["steps"],
        "seed": row["seed"],
        "super_resolution": bool(row["super_resolution"]),
        "inpaint_faces": bool(row["inpaint_faces"]),
        "face_correct": bool(row["face_correct"]),
        "hires_fix": bool(row["hires_fix"]),
        "film_grain": bool(row["film_grain"]),
        "ar": row["ar"],
        "num_images": row["num_images"],
        "w": row["w"],
        "h": row["h"],
        "controlnet": None,
        "controlnet_conditioning_scale": None,
        "controlnet_txt2img": False,
        "denoising_strength": row["denoising_strength"],
        "aspect_ratio": row["aspect_ratio"],
        "style": row["style"],
        "input_image": None,
        "mask_image": None,
        "base_pack_id": None,
        "pack_id": None,
        "prompt_likes_count": likes,
        "liked": liked,
        "user_error": row["user_error"],
        "cost_mc": row["cost_mc"],
        "tune": {"id": tune["id"], "title": tune["title"]} if tune else None,
        "tunes": [{"id": ref["id"], "title": ref["title"]} for ref in referenced],
        "url": f"{base_url}/tunes/{row['tune_id']}/prompts/{row['id']}.json",
        "images": [f"{base}/{index}.jpg" for index in range(row["num_images"])] if done else [],
    }
