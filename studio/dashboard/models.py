from django.db import models


class DailyFigure(models.Model):
    """One metric's total on one closed day (in the studio's time zone), kept by the rollup
    (studio/dashboard/rollups.py); `key` splits a metric by branch or currency ("" otherwise)."""

    day = models.DateField()
    metric = models.CharField(max_length=40)
    key = models.CharField(max_length=40, blank=True)
    value = models.BigIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "metric", "key"], name="daily_figure_unique")]

    def __str__(self) -> str:
        return f"{self.metric}[{self.key}] on {self.day}: {self.value}"


class RolledUpDay(models.Model):
    """A day whose figures are in DailyFigure: all of it, or (today's) its rows up to `up_to`,
    the rest being counted live. A day without a row is counted live."""

    day = models.DateField(unique=True)
    computed_at = models.DateTimeField()
    up_to = models.DateTimeField(null=True, blank=True, help_text="Empty: the whole day.")

    def __str__(self) -> str:
        return f"{self.day} (computed {self.computed_at:%Y-%m-%d %H:%M})"


class LedgerCheck(models.Model):
    """The last comparison of every wallet's balance with the sum of its ledger (by the rollup)."""

    checked_at = models.DateTimeField()
    wallets = models.PositiveIntegerField(help_text="Wallets compared.")
    mismatched = models.JSONField(default=list, help_text="Ids of the wallets that differed.")

    def __str__(self) -> str:
        return f"{len(self.mismatched)} of {self.wallets} wallets off at {self.checked_at:%Y-%m-%d %H:%M}"
