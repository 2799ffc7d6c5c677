"""Streaming receiver of an S3-style POST Object form (``multipart/form-data``).

The form's fields come first and the ``file`` part last (as S3 requires).
When the file part begins, the fields are checked against the signed policy;
the file's bytes then stream straight into a temporary object, with the
size range enforced from ``Content-Length`` before any byte is written and
again while bytes arrive. Nothing is visible until :meth:`finish` renames
the temporary file into place; :meth:`abort` leaves nothing behind.
"""

from __future__ import annotations

from datetime import UTC, datetime

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from relay_server.storage.errors import StorageError, bad_request
from relay_server.storage.local import LocalStorage, PartialObject
from relay_server.storage.policy import SizeRange, verify_post

MAX_FIELD_BYTES = 20_000
MAX_FIELDS_TOTAL = 100_000
MAX_FIELDS = 50
FORM_OVERHEAD_BYTES = 1 << 20  # room for the fields around the file in a Content-Length


def malformed(message: str) -> StorageError:
    return bad_request("MalformedPOSTRequest", message)


def too_large(maximum: int) -> StorageError:
    return bad_request("EntityTooLarge", "Your proposed upload exceeds the maximum allowed "
                       f"size ({maximum} bytes for this upload).")


def too_small(minimum: int) -> StorageError:
    return bad_request("EntityTooSmall", "Your proposed upload is smaller than the minimum "
                       f"allowed size ({minimum} bytes for this upload).")


def form_boundary(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type; 400 when it is not one."""
    ctype, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise malformed("The body of your POST request is not well-formed "
                        "multipart/form-data (it needs a multipart/form-data Content-Type "
                        "with a boundary).")
    return boundary


class PostObjectReceiver:
    """Feeds one request body through a streaming multipart parser into LocalStorage."""

    def __init__(self, storage: LocalStorage, bucket: str, boundary: bytes,
                 content_length: int | None) -> None:
        self.storage = storage
        self.bucket = bucket
        self.content_length = content_length
        self.fields: dict[str, str] = {}
        self.key: str | None = None
        self.size_range: SizeRange | None = None
        self._closing_len = len(b"\r\n--" + boundary + b"--")
        self._fields_bytes = 0
        self._headers: dict[str, str] = {}
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._part_name: str | None = None
        self._part_value = bytearray()
        self._in_file = False
        self._file_done = False
        self._first_file_data = True
        self._partial: PartialObject | None = None
        self._offset = 0  # bytes fed before the current chunk
        self._chunk: bytes = b""
        self._ended = False
        if content_length is not None and content_length > (
                storage.max_upload_bytes + FORM_OVERHEAD_BYTES):
            raise too_large(storage.max_upload_bytes)
        self._parser = MultipartParser(boundary, callbacks={
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        })

    # -- feeding --------------------------------------------------------------------------
    def feed(self, chunk: bytes) -> None:
        """Parse the next piece of the body; raises StorageError when it must be refused."""
        self._chunk = chunk
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise malformed("The body of your POST request is not well-formed "
                            f"multipart/form-data ({exc}).") from exc
        finally:
            self._offset += len(chunk)
            self._chunk = b""

    def finish(self) -> str:
        """Check the complete body and make the object visible; returns its key."""
        if self._partial is None or self.key is None or self.size_range is None:
            raise malformed("POST requires exactly one file upload per request "
                            "(a part named 'file', after the other fields).")
        if not self._file_done or not self._ended:
            raise malformed("The body of your POST request ended before the form was "
                            "complete.")
        if self._partial.size < self.size_range.minimum:
            raise too_small(self.size_range.minimum)
        self._partial.commit()
        return self.key

    def abort(self) -> None:
        """Forget everything written so far (no-op after a successful finish)."""
        if self._partial is not None:
            self._partial.abort()

    @property
    def bytes_written(self) -> int:
        return self._partial.size if self._partial is not None else 0

    # -- parser callbacks -----------------------------------------------------------------
    def _on_part_begin(self) -> None:
        self._headers = {}
        self._part_name = None
        self._part_value = bytearray()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._header_name.decode("latin-1").strip().lower()
        self._headers[name] = self._header_value.decode("utf-8", "replace").strip()
        self._header_name = bytearray()
        self._header_value = bytearray()

    def _on_headers_finished(self) -> None:
        if self._file_done:
            self._part_name = None  # parts after the file are ignored, as on S3
            return
        # parse the header as bytes: a str is encoded as Latin-1 by the parser, and a filename
        # in any other script (sent as UTF-8, as browsers and our client do) would raise
        disposition, params = parse_options_header(
            self._headers.get("content-disposition", "").encode("utf-8"))
        name = params.get(b"name")
        if disposition != b"form-data" or name is None:
            raise malformed("Every part of the form needs a Content-Disposition: form-data "
                            "header with a name.")
        self._part_name = name.decode("utf-8", "replace")
        if self._part_name.lower() == "file":
            self._start_file()
        elif len(self.fields) >= MAX_FIELDS:
            raise malformed(f"The form has more than {MAX_FIELDS} fields.")

    def _start_file(self) -> None:
        self.size_range = verify_post(self.storage.secret, self.bucket, self.fields,
                                      self.storage.max_upload_bytes, datetime.now(UTC))
        key = self.fields["key"]
        try:
            self.storage.path(key)
        except ValueError as exc:
            raise bad_request("InvalidArgument", "The object key is not valid.") from exc
        self.key = key
        self._in_file = True
        self._partial = self.storage.begin_upload(key)

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            assert self._partial is not None and self.size_range is not None
            if self._first_file_data:
                self._first_file_data = False
                self._check_declared_length(data, start)
            if self._partial.size + (end - start) > self.size_range.maximum:
                raise too_large(self.size_range.maximum)
            self._partial.write(memoryview(data)[start:end])
        elif self._part_name is not None and not self._file_done:
            self._fields_bytes += end - start
            if len(self._part_value) + end - start > MAX_FIELD_BYTES:
                raise malformed(f"Form field {self._part_name!r} is longer than "
                                f"{MAX_FIELD_BYTES} bytes.")
            if self._fields_bytes > MAX_FIELDS_TOTAL:
                raise malformed("The form fields are too large.")
            self._part_value += data[start:end]

    def _check_declared_length(self, data: bytes, start: int) -> None:
        """Refuse at once when Content-Length shows the file is out of range."""
        if self.content_length is None or data is not self._chunk:
            return
        assert self.size_range is not None
        remaining = self.content_length - (self._offset + start)
        largest = remaining - self._closing_len
        smallest = largest - 2  # the closing delimiter may end with CRLF
        if smallest > self.size_range.maximum:
            raise too_large(self.size_range.maximum)
        if largest < self.size_range.minimum:
            raise too_small(self.size_range.minimum)

    def _on_part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True
            return
        if self._part_name is None or self._file_done:
            return
        try:
            value = self._part_value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise malformed(f"Form field {self._part_name!r} is not valid UTF-8.") from exc
        self.fields[self._part_name.lower()] = value

    def _on_end(self) -> None:
        self._ended = True
