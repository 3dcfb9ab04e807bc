"""Prompts made from other prompts (`POST /prompts/:id/duplicate`): what a duplicate starts from,
and what its images are. Part of the store, which it extends."""

import json

from astria_sandbox.schema import PROMPT_COLUMNS


class DuplicatesMixin:
    """The store's duplicates; `_db`, `_lock`, `_prompt_row` and `_render_input` are the store's."""

    def duplicate_source(self, owner: str, prompt_id: int) -> dict | None:
        """What a duplicate of the prompt starts from: its tune, its attributes and whether its
        images exist (None when the owner has no such prompt)."""
        with self._lock:
            row = self._prompt_row(owner, prompt_id, None)
            if row is None:
                return None
            tune = self._db.execute("SELECT branch FROM tunes WHERE id = ?", (row["tune_id"],)).fetchone()
            return {
                "tune_id": row["tune_id"],
                "branch": tune["branch"] if tune else "",
                "attrs": {key: row[key] for key in PROMPT_COLUMNS}
                | {"lora_tune_ids": json.loads(row["lora_tune_ids"])},
                "done": row["trained_at"] is not None and not row["user_error"],
                "num_images": row["num_images"],
            }

    def prompt_render_input(self, prompt_id: int, file_key: str) -> dict | None:
        """What the renderer needs for a finished prompt, or None if there is no such image set.

        A duplicate that re-uses one of its source's images (`image_index`, its seed unchanged:
        nothing is made again) is that image, under `reuse`. One with a new seed is made anew,
        from the same tune's photos. Any prompt with super_resolution on is 4x larger (`scale`)."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM prompts WHERE id = ? AND file_key = ? AND trained_at IS NOT NULL",
                (prompt_id, file_key),
            ).fetchone()
            if row is None:
                return None
            orig = None
            if row["image_index"] is not None and row["orig_prompt_id"] is not None:
                orig = self._db.execute(
                    "SELECT * FROM prompts WHERE id = ? AND trained_at IS NOT NULL", (row["orig_prompt_id"],)
                ).fetchone()
            if orig is None or orig["seed"] != row["seed"]:
                return self._render_input(row)
            return self._render_input(orig) | {
                "num_images": row["num_images"],
                "reuse": {"index": row["image_index"], "num_images": orig["num_images"]},
                "scale": 4 if row["super_resolution"] else 1,
            }
