"""What the beat process runs, and how often (seconds): every periodic task of the studio.

Each task is safe to run again and finds its own work, so a missed or doubled run costs nothing.
"""

DAY = 86400.0


def schedule(*, reconcile_interval: int) -> dict:
    """Celery's beat schedule (settings.CELERY_BEAT_SCHEDULE)."""
    return {
        # Expired sessions (database sessions that know their user).
        "sessions-clear": {"task": "accounts.tasks.sessions_clear_expired", "schedule": DAY},
        # Photos whose processing never reported back: retried, then given up.
        "photos-sweep": {"task": "studio.photos.tasks.photo_sweep", "schedule": 60.0},
        # Checkouts whose webhook never came are asked about at Stripe (does nothing without Stripe).
        "credits-purchase-reconcile": {"task": "studio.credits.tasks.purchase_reconcile_pending", "schedule": 600.0},
        # Avatars and prompts due a look at Astria (studio/avatars/reconcile.py).
        "avatar-reconcile": {"task": "studio.avatars.tasks.avatar_reconcile", "schedule": float(reconcile_interval)},
        # Media files no row points to, once MEDIA_SWEEP_GRACE_HOURS old.
        "media-sweep": {"task": "studio.avatars.tasks.media_sweep_orphans", "schedule": DAY},
        # "Your headshot is ready" and "everyone is done", each sent once; and the team zips' daily expiry.
        "teams-progress": {"task": "studio.teams.tasks.team_progress_notify", "schedule": 60.0},
        "teams-export-purge": {"task": "studio.teams.tasks.team_export_purge_expired", "schedule": 3600.0},
        # The operator dashboard's daily rollup (studio/dashboard/rollups.py).
        "dashboard-rollup": {"task": "studio.dashboard.tasks.dashboard_rollup", "schedule": 600.0},
    }
