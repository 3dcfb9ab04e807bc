from django import forms
from django.conf import settings

from studio.photos.intake import megabytes
from studio.photos.selectors import PhotoSet
from studio.photos.uploads import REQUEST_TOO_LARGE, DroppedUpload

# What the file picker offers; the server decides by decoding, whatever the browser sends.
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.jpg,.jpeg,.png,.webp,.heic,.heif"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotoUploadForm(forms.Form):
    photos = forms.Field(
        label="Choose photos",
        required=False,
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
        help_text=(
            f"JPEG, PNG, WebP or HEIC, up to {megabytes(settings.PHOTOS_MAX_FILE_BYTES)} each. "
            "You can pick several at once."
        ),
    )

    def __init__(self, *args, photo_set: PhotoSet, dropped: list[DroppedUpload], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.photo_set = photo_set
        self.dropped = dropped

    def clean_photos(self) -> list:
        files = self.files.getlist("photos")
        if any(d.reason == REQUEST_TOO_LARGE for d in self.dropped):
            raise forms.ValidationError(
                f"Together these files are more than the {megabytes(settings.PHOTOS_MAX_REQUEST_BYTES)} "
                "one upload can take. Add them a few at a time."
            )
        if not files and not self.dropped:
            raise forms.ValidationError("Choose at least one photo to add.")
        room, maximum = self.photo_set.room, self.photo_set.maximum
        if files and room == 0:
            raise forms.ValidationError(
                f"This avatar already has {maximum} photos, the most it can use. Remove one to add another."
            )
        if len(files) > room:
            raise forms.ValidationError(
                f"You chose {len(files)} photos, but there is room for only {room} more "
                f"({maximum} at most). Choose fewer, or remove some first."
            )
        return files
