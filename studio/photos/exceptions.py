from studio.core.exceptions import ApplicationError


class PhotosLocked(ApplicationError):
    """The avatar is no longer a draft, so its photos cannot change."""


class PhotoLimitReached(ApplicationError):
    """The avatar already has as many photos as it can use."""


class PhotosStillProcessing(ApplicationError):
    """The user has PHOTOS_MAX_PROCESSING photos waiting for the images worker already."""
