"""The theme cover painter: paints static/themes/covers/*.webp from recipes.toml.

    DEBUG=1 .venv/bin/python -m tools.covers [SLUG ...] [--output DIR]

(`manage.py render_theme_covers` does the same when DEBUG is on.) The theme catalogue
(studio/themes/data/themes.toml) says which covers exist; this package says how they look.
"""
