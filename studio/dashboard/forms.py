from django import forms

from studio.dashboard.figures import ALL_TIME, DEFAULT_PERIOD, PERIODS


def _days(value: str) -> int:
    return ALL_TIME if value == "all" else int(value)


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Period",
        choices=[*((days, f"{days} days") for days in PERIODS), ("all", "All time")],
        coerce=_days,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose 7, 30 or 90 days, or all time."},
    )

    @classmethod
    def from_query(cls, query) -> tuple["PeriodForm", int, str]:
        """The form as the page shows it, the period to show, and what was wrong with the query."""
        if "days" not in query:
            return cls({"days": DEFAULT_PERIOD}), DEFAULT_PERIOD, ""
        form = cls(query)
        if form.is_valid():
            return form, form.cleaned_data["days"], ""
        error = f"Showing {DEFAULT_PERIOD} days: {form.errors['days'][0]}"
        return cls({"days": DEFAULT_PERIOD}), DEFAULT_PERIOD, error
