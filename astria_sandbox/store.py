"""The sandbox's own state: tunes, training photos, prompts, likes and callbacks in SQLite.

One connection guarded by one lock, so any number of request threads and the scheduler thread
can use it. Objects are keyed by a hash of the API key that created them; gallery tunes belong
to nobody and are readable by every key. Nothing here knows about the studio.
"""

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from astria_sandbox import api_json
from astria_sandbox.api_json import iso
from astria_sandbox.duplicates import DuplicatesMixin
from astria_sandbox.schema import ADDED_COLUMNS, PROMPT_COLUMNS, SCHEMA

FIRST_TUNE_ID = 3_000_001
FIRST_PROMPT_ID = 41_000_001
GALLERY_CREATED_AT = datetime(2024, 1, 15, 12, 0, tzinfo=UTC).timestamp()
GALLERY_TITLES = {
    "sd15": "Realistic Vision V5.1", "sdxl1": "SDXL 1.0", "flux1": "Flux1.dev", "partner-1": "Gemini (Nano Banana Pro)"
}



def owner_of(api_key: str) -> str:
    """Objects are stored under a hash of the key, so the state file holds no usable key."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]


class Store(DuplicatesMixin):
    def __init__(self, path: str | Path | None, *, base_url: str, gallery_tunes: dict[str, int]) -> None:
        self.base_url = base_url.rstrip("/")
        self._lock = threading.RLock()
        if path is None:
            target = ":memory:"
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            target = str(path)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        for table, column, definition in ADDED_COLUMNS:
            known = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in known:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        self._seed(gallery_tunes)

    # --- plumbing -------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._db.close()

    def transaction(self) -> "_Transaction":
        """The lock and BEGIN IMMEDIATE ... COMMIT; `with store.transaction() as db:` gives the connection."""
        return _Transaction(self._db, self._lock)

    def _next_id(self, name: str, first: int) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = max(first, row["value"] + 1 if row else first)
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        return value

    def _insert(self, table: str, **values) -> None:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        self._db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))  # noqa: S608

    def _count(self, name: str, by: int = 1) -> None:
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (name, by),
        )

    def count(self, name: str, by: int = 1) -> None:
        with self.transaction():
            self._count(name, by)

    def _seed(self, gallery_tunes: dict[str, int]) -> None:
        with self.transaction():
            for branch, tune_id in gallery_tunes.items():
                if not tune_id:
                    continue
                self._db.execute(
                    "INSERT OR IGNORE INTO tunes (id, owner, gallery, title, name, token, branch, file_key, "
                    "created_at, updated_at, eta, start_due, started_training_at, train_due, trained_at) "
                    "VALUES (?, NULL, 1, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        tune_id,
                        GALLERY_TITLES.get(branch, f"Gallery base model ({branch})"),
                        branch,
                        secrets.token_hex(8),
                        *([GALLERY_CREATED_AT] * 7),
                    ),
                )
            highest = self._db.execute("SELECT MAX(id) FROM tunes WHERE gallery = 1").fetchone()[0] or 0
            row = self._db.execute("SELECT value FROM counters WHERE name = 'tune_id'").fetchone()
            if highest >= FIRST_TUNE_ID and (row is None or row["value"] < highest):
                self._db.execute(
                    "INSERT INTO counters (name, value) VALUES ('tune_id', ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (highest,),
                )

    # --- Astria's JSON shapes, with what they need from the other tables ---------------------
    def tune_json(self, row: sqlite3.Row) -> dict:
        count = self._db.execute(
            "SELECT COUNT(*) FROM tune_images WHERE tune_id = ?", (row["id"],)
        ).fetchone()[0]
        return api_json.tune_json(row, base_url=self.base_url, image_count=count)

    def prompt_json(self, row: sqlite3.Row, owner: str | None = None) -> dict:
        tune = self._db.execute("SELECT id, title FROM tunes WHERE id = ?", (row["tune_id"],)).fetchone()
        referenced = []
        for tune_id in json.loads(row["lora_tune_ids"]):
            ref = self._db.execute("SELECT id, title FROM tunes WHERE id = ?", (tune_id,)).fetchone()
            if ref is not None:
                referenced.append(ref)
        likes = self._db.execute("SELECT COUNT(*) FROM likes WHERE prompt_id = ?", (row["id"],)).fetchone()[0]
        liked = (
            owner is not None
            and self._db.execute(
                "SELECT 1 FROM likes WHERE prompt_id = ? AND owner = ?", (row["id"], owner)
            ).fetchone()
            is not None
        )
        return api_json.prompt_json(
            row, base_url=self.base_url, tune=tune, referenced=referenced, likes=likes, liked=liked
        )

    # --- tunes ----------------------------------------------------------------------------------
    def tune_visible(self, owner: str, tune_id: int) -> sqlite3.Row | None:
        """A tune the key may read: its own, or a gallery tune."""
        with self._lock:
            return self._db.execute(
                "SELECT * FROM tunes WHERE id = ? AND (owner = ? OR gallery = 1)", (tune_id, owner)
            ).fetchone()

    def get_tune(self, owner: str, tune_id: int) -> dict | None:
        with self._lock:
            row = self.tune_visible(owner, tune_id)
            return None if row is None else self.tune_json(row)

    def find_tune_by_title(self, owner: str, title: str) -> dict | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM tunes WHERE owner = ? AND title = ? ORDER BY id DESC LIMIT 1", (owner, title)
            ).fetchone()
            return None if row is None else self.tune_json(row)

    def list_tunes(
        self, owner: str, *, offset: int, limit: int, filters: dict, before_id: int | None
    ) -> list:
        clauses, args = ["owner = ?"], [owner]
        for column in ("title", "branch", "model_type", "name"):
            if filters.get(column) is not None:
                clauses.append(f"{column} = ?")
                args.append(filters[column])
        if before_id is not None:
            clauses.append("id < ?")
            args.append(before_id)
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM tunes WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ? OFFSET ?",  # noqa: S608
                (*args, limit, offset),
            ).fetchall()
            return [self.tune_json(row) for row in rows]

    def list_gallery(self) -> list:
        with self._lock:
            rows = self._db.execute("SELECT * FROM tunes WHERE gallery = 1 ORDER BY id DESC").fetchall()
            return [self.tune_json(row) for row in rows]

    def create_tune(
        self,
        owner: str,
        attrs: dict,
        images: list[tuple[bytes, str]],
        *,
        training_delay: float,
        base_branch: str | None,
    ) -> dict:
        now = time.time()
        branch = attrs["branch"] or base_branch or "sd15"
        token = attrs["token"] or ("ohwx" if branch in ("sdxl1", "flux1") else "sks")
        faceid = attrs["model_type"] == "faceid"
        start_due = now if faceid else now + min(2.0, training_delay / 4)
        train_due = now if faceid else now + training_delay
        with self.transaction():
            tune_id = self._next_id("tune_id", FIRST_TUNE_ID)
            self._insert(
                "tunes",
                id=tune_id,
                owner=owner,
                title=attrs["title"],
                name=attrs["name"],
                token=token,
                branch=branch,
                model_type=attrs["model_type"],
                base_tune_id=attrs["base_tune_id"],
                callback=attrs["callback"],
                steps=attrs["steps"],
                face_crop=None if attrs["face_crop"] is None else int(attrs["face_crop"]),
                characteristics=json.dumps(attrs["characteristics"]) if attrs["characteristics"] else None,
                file_key=secrets.token_hex(8),
                cost_mc=0 if branch == "fast" else 150_000,
                created_at=now,
                updated_at=now,
                eta=train_due,
                start_due=start_due,
                started_training_at=now if faceid else None,
                train_due=train_due,
                trained_at=now if faceid else None,
                callback_state="due" if faceid and attrs["callback"] else "none",
            )
            for index, (data, content_type) in enumerate(images):
                self._db.execute(
                    "INSERT INTO tune_images (tune_id, idx, content_type, data) VALUES (?, ?, ?, ?)",
                    (tune_id, index, content_type, data),
                )
            self._count("tunes_created")
            self._db.execute(
                "INSERT INTO title_counts (title, count) VALUES (?, 1) "
                "ON CONFLICT (title) DO UPDATE SET count = count + 1",
                (attrs["title"],),
            )
            row = self._db.execute("SELECT * FROM tunes WHERE id = ?", (tune_id,)).fetchone()
            return self.tune_json(row)

    def update_tune(self, owner: str, tune_id: int, changes: dict) -> dict | None:
        with self.transaction():
            row = self._db.execute(
                "SELECT * FROM tunes WHERE id = ? AND owner = ?", (tune_id, owner)
            ).fetchone()
            if row is None:
                return None
            for column, value in changes.items():
                self._db.execute(f"UPDATE tunes SET {column} = ? WHERE id = ?", (value, tune_id))  # noqa: S608
            self._db.execute("UPDATE tunes SET updated_at = ? WHERE id = ?", (time.time(), tune_id))
            return self.tune_json(self._db.execute("SELECT * FROM tunes WHERE id = ?", (tune_id,)).fetchone())

    def delete_tune(self, owner: str, tune_id: int) -> bool:
        """Delete the tune, its training photos and its prompts (as Astria does for checkpoints)."""
        with self.transaction():
            deleted = self._db.execute(
                "DELETE FROM tunes WHERE id = ? AND owner = ?", (tune_id, owner)
            ).rowcount
            if deleted:
                self._db.execute("DELETE FROM tune_images WHERE tune_id = ?", (tune_id,))
                self._db.execute(
                    "DELETE FROM likes WHERE prompt_id IN "
                    "(SELECT id FROM prompts WHERE tune_id = ? AND owner = ?)",
                    (tune_id, owner),
                )
                self._db.execute("DELETE FROM prompts WHERE tune_id = ? AND owner = ?", (tune_id, owner))
            return bool(deleted)

    def finish_training_now(self, tune_id: int) -> bool:
        """Make an untrained tune due now (the next clock tick trains it); False if there is none."""
        now = time.time()
        with self.transaction():
            return bool(
                self._db.execute(
                    "UPDATE tunes SET start_due = MIN(start_due, ?), train_due = ?, eta = ? "
                    "WHERE id = ? AND trained_at IS NULL",
                    (now, now, now, tune_id),
                ).rowcount
            )

    def tune_file(self, tune_id: int, file_key: str, index: int) -> tuple[bytes, str] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT i.data, i.content_type FROM tune_images i JOIN tunes t ON t.id = i.tune_id "
                "WHERE t.id = ? AND t.file_key = ? AND i.idx = ?",
                (tune_id, file_key, index),
            ).fetchone()
            return None if row is None else (bytes(row["data"]), row["content_type"])

    def checkpoint_exists(self, tune_id: int, file_key: str) -> bool:
        with self._lock:
            return (
                self._db.execute(
                    "SELECT 1 FROM tunes "
                    "WHERE id = ? AND file_key = ? AND trained_at IS NOT NULL AND gallery = 0",
                    (tune_id, file_key),
                ).fetchone()
                is not None
            )

    def _photos(self, tune_id: int) -> list[bytes]:
        rows = self._db.execute(
            "SELECT data FROM tune_images WHERE tune_id = ? ORDER BY idx", (tune_id,)
        ).fetchall()
        return [bytes(row["data"]) for row in rows]

    # --- prompts --------------------------------------------------------------------------------
    def create_prompt(
        self, owner: str, tune_id: int, attrs: dict, *, prompt_delay: float, fail: bool,
        likeness_fault: dict | None = None, orig_prompt_id: int | None = None, image_index: int | None = None,
    ) -> dict:
        now = time.time()
        with self.transaction():
            prompt_id = self._next_id("prompt_id", FIRST_PROMPT_ID)
            branch = self._db.execute("SELECT branch FROM tunes WHERE id = ?", (tune_id,)).fetchone()
            cost = (
                0 if branch is not None and branch["branch"] == "fast" else 10_000 * attrs["num_images"] // 8
            )
            self._insert(
                "prompts",
                id=prompt_id,
                owner=owner,
                tune_id=tune_id,
                **{key: attrs[key] for key in PROMPT_COLUMNS},
                lora_tune_ids=json.dumps(attrs["lora_tune_ids"]),
                file_key=secrets.token_hex(8),
                cost_mc=cost,
                created_at=now,
                updated_at=now,
                run_delay=prompt_delay,
                fail_injected=int(fail),
                likeness_fault=json.dumps(likeness_fault) if likeness_fault else None,
                orig_prompt_id=orig_prompt_id,
                image_index=image_index,
            )
            self._count("prompts_created")
            row = self._db.execute("SELECT * FROM prompts WHERE id = ?", (prompt_id,)).fetchone()
            return self.prompt_json(row, owner)

    def _prompt_row(self, owner: str, prompt_id: int, tune_id: int | None) -> sqlite3.Row | None:
        if tune_id is None:
            return self._db.execute(
                "SELECT * FROM prompts WHERE id = ? AND owner = ?", (prompt_id, owner)
            ).fetchone()
        return self._db.execute(
            "SELECT * FROM prompts WHERE id = ? AND owner = ? AND tune_id = ?", (prompt_id, owner, tune_id)
        ).fetchone()

    def get_prompt(self, owner: str, prompt_id: int, tune_id: int | None = None) -> dict | None:
        with self._lock:
            row = self._prompt_row(owner, prompt_id, tune_id)
            return None if row is None else self.prompt_json(row, owner)

    def list_prompts(self, owner: str, tune_id: int | None, *, offset: int, limit: int) -> list:
        with self._lock:
            if tune_id is None:
                rows = self._db.execute(
                    "SELECT * FROM prompts WHERE owner = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                    (owner, limit, offset),
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT * FROM prompts WHERE owner = ? AND tune_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                    (owner, tune_id, limit, offset),
                ).fetchall()
            return [self.prompt_json(row, owner) for row in rows]

    def delete_prompt(self, owner: str, prompt_id: int, tune_id: int | None = None) -> bool:
        with self.transaction():
            row = self._prompt_row(owner, prompt_id, tune_id)
            if row is None:
                return False
            self._db.execute("DELETE FROM prompts WHERE id = ?", (prompt_id,))
            self._db.execute("DELETE FROM likes WHERE prompt_id = ?", (prompt_id,))
            return True

    def set_like(self, owner: str, prompt_id: int, liked: bool) -> bool:
        with self.transaction():
            if self._prompt_row(owner, prompt_id, None) is None:
                return False
            if liked:
                self._db.execute(
                    "INSERT OR IGNORE INTO likes (prompt_id, owner) VALUES (?, ?)", (prompt_id, owner)
                )
            else:
                self._db.execute("DELETE FROM likes WHERE prompt_id = ? AND owner = ?", (prompt_id, owner))
            return True

    def _render_input(self, row: sqlite3.Row) -> dict:
        photos: list[bytes] = []
        for tune_id in [*json.loads(row["lora_tune_ids"]), row["tune_id"]]:
            photos = self._photos(tune_id)
            if photos:
                break
        text = row["text"] if not row["style"] else f"{row['text']} {row['style']}"
        return {
            "photos": photos,
            "text": text,
            "prompt_id": row["id"],
            "num_images": row["num_images"],
            "seed": row["seed"],
            "likeness_fault": json.loads(row["likeness_fault"]) if row["likeness_fault"] else None,
            "input_image": bytes(row["input_image"]) if row["input_image"] is not None else None,
            "scale": 4 if row["super_resolution"] else 1,
        }

    # --- numbers for tests and drills -----------------------------------------------------------
    def stats(self) -> dict:
        with self._lock:
            counters = {row["name"]: row["value"] for row in self._db.execute("SELECT * FROM counters")}
            outcomes = {
                row["outcome"]: row["n"]
                for row in self._db.execute("SELECT outcome, COUNT(*) AS n FROM callbacks GROUP BY outcome")
            }
            titles = {row["title"]: row["count"] for row in self._db.execute("SELECT * FROM title_counts")}
            return {
                "tunes_created": counters.get("tunes_created", 0),
                "tunes_by_title": titles,
                "prompts_created": counters.get("prompts_created", 0),
                "requests": counters.get("requests", 0),
                "faults_injected": counters.get("faults_injected", 0),
                "likeness_faults": counters.get("likeness_faults", 0),
                "callbacks": {key: outcomes.get(key, 0) for key in ("sent", "failed", "dropped")},
                "tunes": self._db.execute("SELECT COUNT(*) FROM tunes WHERE gallery = 0").fetchone()[0],
                "prompts": self._db.execute("SELECT COUNT(*) FROM prompts").fetchone()[0],
            }

    def callback_log(self) -> list[dict]:
        with self._lock:
            return [
                {
                    "kind": row["kind"],
                    "id": row["object_id"],
                    "outcome": row["outcome"],
                    "status": row["status"],
                    "error": row["error"],
                    "at": iso(row["at"]),
                }
                for row in self._db.execute("SELECT * FROM callbacks ORDER BY id")
            ]


class _Transaction:
    """The store's lock plus BEGIN IMMEDIATE/COMMIT (ROLLBACK on error); re-entrant within a thread."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db, self._lock = db, lock
        self._outer = False

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        self._outer = not self._db.in_transaction
        if self._outer:
            self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type, exc, tb):
        try:
            if self._outer:
                self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()
        return False
