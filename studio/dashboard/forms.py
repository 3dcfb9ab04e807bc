from django import forms

from studio.dashboard.figures import DEFAULT_PERIOD, PERIODS


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Period",
        choices=[(days, f"{days} days") for days in PERIODS],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose 7, 30 or 90 days."},
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
