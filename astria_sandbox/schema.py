"""The SQLite schema of the sandbox's state (created on start; `IF NOT EXISTS` keeps a state file).

Times are Unix timestamps. `callback_state` is none, due, sending, sent, failed or dropped; a
tune's `start_due`/`train_due` and a prompt's `run_delay` are when the clock moves them on.
A prompt's `likeness_fault` is the JSON of the fault its images are painted with, if any. Columns
added since a state file was made are added to it on start (`ADDED_COLUMNS`).
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS title_counts (title TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tunes (
    id INTEGER PRIMARY KEY, owner TEXT, gallery INTEGER NOT NULL DEFAULT 0,
    title TEXT NOT NULL, name TEXT, token TEXT, branch TEXT NOT NULL, model_type TEXT,
    base_tune_id INTEGER, callback TEXT, steps INTEGER, face_crop INTEGER, characteristics TEXT,
    file_key TEXT NOT NULL, cost_mc INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, eta REAL NOT NULL,
    start_due REAL NOT NULL, started_training_at REAL, train_due REAL NOT NULL, trained_at REAL,
    callback_state TEXT NOT NULL DEFAULT 'none'
);
CREATE INDEX IF NOT EXISTS tunes_owner ON tunes (owner, id);
CREATE INDEX IF NOT EXISTS tunes_pending ON tunes (trained_at, callback_state);
CREATE TABLE IF NOT EXISTS tune_images (
    tune_id INTEGER NOT NULL, idx INTEGER NOT NULL, content_type TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (tune_id, idx)
);
CREATE TABLE IF NOT EXISTS prompts (
    id INTEGER PRIMARY KEY, owner TEXT NOT NULL, tune_id INTEGER NOT NULL, text TEXT NOT NULL,
    negative_prompt TEXT, callback TEXT, num_images INTEGER NOT NULL, seed INTEGER, steps INTEGER,
    cfg_scale TEXT, w INTEGER, h INTEGER, ar TEXT, style TEXT,
    super_resolution INTEGER NOT NULL, inpaint_faces INTEGER NOT NULL, face_correct INTEGER NOT NULL,
    hires_fix INTEGER NOT NULL, film_grain INTEGER NOT NULL, lora_tune_ids TEXT NOT NULL,
    file_key TEXT NOT NULL, cost_mc INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, run_delay REAL NOT NULL,
    started_training_at REAL, trained_at REAL, user_error TEXT, fail_injected INTEGER NOT NULL,
    callback_state TEXT NOT NULL DEFAULT 'none', likeness_fault TEXT, orig_prompt_id INTEGER,
    image_index INTEGER, aspect_ratio TEXT, denoising_strength REAL, input_image BLOB
);
CREATE INDEX IF NOT EXISTS prompts_owner ON prompts (owner, tune_id, id);
CREATE INDEX IF NOT EXISTS prompts_pending ON prompts (trained_at, user_error, callback_state);
CREATE TABLE IF NOT EXISTS likes (
    prompt_id INTEGER NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (prompt_id, owner)
);
CREATE TABLE IF NOT EXISTS callbacks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, object_id INTEGER NOT NULL,
    outcome TEXT NOT NULL, status INTEGER, error TEXT, at REAL NOT NULL
);
"""

# (table, column, definition) added to older state files.
ADDED_COLUMNS = (
    ("prompts", "likeness_fault", "TEXT"),
    ("prompts", "orig_prompt_id", "INTEGER"),
    ("prompts", "image_index", "INTEGER"),
    ("prompts", "aspect_ratio", "TEXT"),
    ("prompts", "denoising_strength", "REAL"),
    ("prompts", "input_image", "BLOB"),
)

# A prompt's attributes as stored, each a column of `prompts` (a duplicate copies them).
PROMPT_COLUMNS = (
    "text",
    "negative_prompt",
    "callback",
    "num_images",
    "seed",
    "steps",
    "cfg_scale",
    "w",
    "h",
    "ar",
    "style",
    "super_resolution",
    "inpaint_faces",
    "face_correct",
    "hires_fix",
    "film_grain",
    "aspect_ratio",
    "denoising_strength",
    "input_image",  # the picture an img2img, outpainting or instruction edit starts from
)
