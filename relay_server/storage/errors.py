"""Storage errors in the shape S3 gives them: a code, a message and an HTTP status."""

from __future__ import annotations

from xml.sax.saxutils import escape


class StorageError(Exception):
    """A refused storage request, rendered as S3-style XML by the storage endpoint.

    Attributes:
        code: The S3 error code (``AccessDenied``, ``EntityTooLarge`` ...).
        message: A sentence a person understands.
        status_code: The HTTP status (403 for auth/policy, 400 for bad input).
    """

    def __init__(self, code: str, message: str, status_code: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status_code = status_code

    def to_xml(self) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(self.code)}</Code>"
            f"<Message>{escape(self.message)}</Message></Error>"
        )


class ObjectNotFound(Exception):
    """The object key holds nothing."""


def access_denied(message: str) -> StorageError:
    return StorageError("AccessDenied", message, 403)


def signature_mismatch(message: str = "The request signature we calculated does not match "
                       "the signature you provided.") -> StorageError:
    return StorageError("SignatureDoesNotMatch", message, 403)


def expired() -> StorageError:
    return StorageError("AccessDenied", "Request has expired", 403)


def bad_request(code: str, message: str) -> StorageError:
    return StorageError(code, message, 400)
