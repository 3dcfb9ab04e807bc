"""What the sandbox's clock does to its state, on every tick and every API request.

A tune starts training shortly after it is created and is trained `training_delay` seconds after
that (a `faceid` tune at once). A prompt waits until its tune, and every tune its LoRA tags name,
is trained, then runs `prompt_delay` seconds and ends with its images, or with `user_error` when a
failure was injected or a tune it needs was deleted. Whatever finishes with a callback URL becomes
a due `Delivery`, handed out once (or recorded as dropped when callbacks are switched off).
"""

import json
import sqlite3
import time
from dataclasses import dataclass

from astria_sandbox.store import Store


@dataclass(frozen=True)
class Delivery:
    """A callback that is due: POST `payload` to `url`, once."""

    kind: str
    object_id: int
    url: str
    payload: dict


def advance(store: Store, now: float | None = None, *, drop_callbacks: bool = False) -> list[Delivery]:
    """Move every tune and prompt whose time has come; return the callbacks now due."""
    now = time.time() if now is None else now
    with store.transaction() as db:
        db.execute(
            "UPDATE tunes SET started_training_at = start_due, updated_at = ? "
            "WHERE started_training_at IS NULL AND start_due <= ?",
            (now, now),
        )
        db.execute(
            "UPDATE tunes SET trained_at = train_due, updated_at = ?, callback_state = "
            "CASE WHEN callback IS NOT NULL AND callback != '' THEN 'due' ELSE 'none' END "
            "WHERE trained_at IS NULL AND train_due <= ?",
            (now, now),
        )
        pending = db.execute(
            "SELECT id, tune_id, lora_tune_ids, created_at, run_delay, started_training_at, "
            "fail_injected, callback FROM prompts WHERE trained_at IS NULL AND user_error IS NULL"
        ).fetchall()
        for prompt in pending:
            _advance_prompt(db, prompt, now)
        return _due_deliveries(store, db, drop_callbacks)


def _advance_prompt(db: sqlite3.Connection, prompt: sqlite3.Row, now: float) -> None:
    needed = [prompt["tune_id"], *json.loads(prompt["lora_tune_ids"])]
    ready_at = prompt["created_at"]
    for tune_id in needed:
        tune = db.execute("SELECT trained_at FROM tunes WHERE id = ?", (tune_id,)).fetchone()
        if tune is None:
            db.execute(
                "UPDATE prompts SET user_error = ?, updated_at = ?, callback_state = ? WHERE id = ?",
                (
                    f"Tune {tune_id} was deleted before this prompt ran",
                    now,
                    _due_if(prompt),
                    prompt["id"],
                ),
            )
            return
        if tune["trained_at"] is None:
            return
        ready_at = max(ready_at, tune["trained_at"])
    if ready_at > now:
        return
    if prompt["started_training_at"] is None:
        db.execute(
            "UPDATE prompts SET started_training_at = ?, updated_at = ? WHERE id = ?",
            (ready_at, now, prompt["id"]),
        )
    finish = ready_at + prompt["run_delay"]
    if finish > now:
        return
    if prompt["fail_injected"]:
        db.execute(
            "UPDATE prompts SET user_error = ?, updated_at = ?, callback_state = ? WHERE id = ?",
            (
                "The prompt could not be processed (failure injected by the sandbox)",
                now,
                _due_if(prompt),
                prompt["id"],
            ),
        )
    else:
        db.execute(
            "UPDATE prompts SET trained_at = ?, updated_at = ?, callback_state = ? WHERE id = ?",
            (finish, now, _due_if(prompt), prompt["id"]),
        )


def _due_if(prompt: sqlite3.Row) -> str:
    return "due" if prompt["callback"] else "none"


def _due_deliveries(store: Store, db: sqlite3.Connection, drop: bool) -> list[Delivery]:
    deliveries: list[Delivery] = []
    outcome = "dropped" if drop else "sending"
    for row in db.execute("SELECT * FROM tunes WHERE callback_state = 'due'").fetchall():
        db.execute("UPDATE tunes SET callback_state = ? WHERE id = ?", (outcome, row["id"]))
        deliveries.append(Delivery("tune", row["id"], row["callback"], {"tune": store.tune_json(row)}))
    for row in db.execute("SELECT * FROM prompts WHERE callback_state = 'due'").fetchall():
        db.execute("UPDATE prompts SET callback_state = ? WHERE id = ?", (outcome, row["id"]))
        deliveries.append(
            Delivery("prompt", row["id"], row["callback"], {"prompt": store.prompt_json(row, row["owner"])})
        )
    if drop:
        for delivery in deliveries:
            _record(db, delivery, "dropped", None, None)
        return []
    return deliveries


def _record(db: sqlite3.Connection, delivery: Delivery, outcome: str, status: int | None, error: str | None) -> None:
    db.execute(
        "INSERT INTO callbacks (kind, object_id, outcome, status, error, at) VALUES (?, ?, ?, ?, ?, ?)",
        (delivery.kind, delivery.object_id, outcome, status, error, time.time()),
    )


def record_delivery(store: Store, delivery: Delivery, *, status: int | None, error: str | None) -> None:
    """Note how a delivery went: sent (2xx) or failed. Failed callbacks are not retried, as at Astria."""
    outcome = "sent" if status is not None and 200 <= status < 300 else "failed"
    table = "tunes" if delivery.kind == "tune" else "prompts"
    with store.transaction() as db:
        _record(db, delivery, outcome, status, error)
        db.execute(
            f"UPDATE {table} SET callback_state = ? WHERE id = ?",  # noqa: S608
            (outcome, delivery.object_id),
        )
