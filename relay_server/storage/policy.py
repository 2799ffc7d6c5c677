"""Presigned POST policies signed like S3's (SigV4), and signed GET URLs.

An upload form carries ``key``, ``Content-Type``, ``policy`` (base64 JSON:
``expiration`` plus ``conditions``), ``x-amz-algorithm``, ``x-amz-credential``,
``x-amz-date`` and ``x-amz-signature`` (HMAC-SHA256 of the policy with a key
derived from the server secret, the credential's date, region and service,
as in AWS Signature Version 4). :func:`verify_post` checks a received form
the way S3 does and returns the allowed body size range.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from relay_server.storage.errors import (
    StorageError,
    access_denied,
    bad_request,
    expired,
    signature_mismatch,
)

ALGORITHM = "AWS4-HMAC-SHA256"
ACCESS_KEY_ID = "relay-local"
REGION = "local"
SERVICE = "s3"
# Form fields that need no policy condition (as on S3).
UNCONDITIONED = {"policy", "x-amz-signature", "file"}


@dataclass(frozen=True)
class SizeRange:
    """The body sizes a verified policy allows, inclusive."""

    minimum: int
    maximum: int


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, date_stamp: str, region: str = REGION,
                service: str = SERVICE) -> bytes:
    """The SigV4 signing key for one day, region and service."""
    k_date = _hmac(("AWS4" + secret).encode("utf-8"), date_stamp)
    return _hmac(_hmac(_hmac(k_date, region), service), "aws4_request")


def sign_policy(secret: str, policy_b64: str, date_stamp: str, region: str = REGION,
                service: str = SERVICE) -> str:
    """Hex HMAC-SHA256 signature of a base64 policy document."""
    key = signing_key(secret, date_stamp, region, service)
    return hmac.new(key, policy_b64.encode("ascii"), hashlib.sha256).hexdigest()


def build_post_fields(secret: str, bucket: str, key: str, content_type: str, min_size: int,
                      max_size: int, ttl_s: int, now: datetime | None = None) -> dict[str, str]:
    """The form fields of a presigned POST for exactly one object key."""
    now = now or datetime.now(UTC)
    date_stamp = now.strftime("%Y%m%d")
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{ACCESS_KEY_ID}/{date_stamp}/{REGION}/{SERVICE}/aws4_request"
    expiration = (now + timedelta(seconds=ttl_s)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    policy = {
        "expiration": expiration,
        "conditions": [
            {"bucket": bucket},
            {"key": key},
            {"Content-Type": content_type},
            ["content-length-range", min_size, max_size],
            {"x-amz-algorithm": ALGORITHM},
            {"x-amz-credential": credential},
            {"x-amz-date": amz_date},
        ],
    }
    policy_b64 = base64.b64encode(json.dumps(policy, separators=(",", ":")).encode()).decode()
    return {
        "key": key,
        "Content-Type": content_type,
        "policy": policy_b64,
        "x-amz-algorithm": ALGORITHM,
        "x-amz-credential": credential,
        "x-amz-date": amz_date,
        "x-amz-signature": sign_policy(secret, policy_b64, date_stamp),
    }


def decode_policy(policy_b64: str) -> dict[str, Any]:
    """Parse a base64 policy document; 400 InvalidPolicyDocument when it is not one."""
    try:
        doc = json.loads(base64.b64decode(policy_b64.encode("ascii"), validate=True))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise bad_request("InvalidPolicyDocument",
                          "Invalid Policy: the policy is not base64-encoded JSON.") from exc
    if (not isinstance(doc, dict) or not isinstance(doc.get("expiration"), str)
            or not isinstance(doc.get("conditions"), list)):
        raise bad_request("InvalidPolicyDocument",
                          "Invalid Policy: it needs an 'expiration' and a 'conditions' list.")
    return doc


def _parse_expiration(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_request("InvalidPolicyDocument",
                          "Invalid Policy: Invalid 'expiration' value.") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _condition_failed(cond: Any) -> StorageError:
    return access_denied(
        f"Invalid according to Policy: Policy Condition failed: {json.dumps(cond)}")


def _field_name(ref: Any) -> str:
    if not isinstance(ref, str) or not ref.startswith("$"):
        raise bad_request("InvalidPolicyDocument",
                          f"Invalid Policy: condition field {ref!r} must start with '$'.")
    return ref[1:].lower()


def verify_post(secret: str, bucket: str, fields: dict[str, str], cap: int,
                now: datetime | None = None) -> SizeRange:
    """Check a received form against its signed policy, as S3 would.

    ``fields`` maps lower-cased field names to values (the file excluded).
    Raises StorageError (403 for auth and policy failures, 400 for a
    malformed policy); returns the allowed size range, never above ``cap``.
    """
    now = now or datetime.now(UTC)
    policy_b64 = fields.get("policy")
    signature = fields.get("x-amz-signature")
    if not policy_b64 or not signature:
        raise access_denied("Anonymous uploads are not allowed: the form needs the "
                            "'policy' and 'x-amz-signature' fields from upload-url.")
    if "key" not in fields:
        raise bad_request("MalformedPOSTRequest", "Bucket POST must contain a field named 'key'.")
    if fields.get("x-amz-algorithm") != ALGORITHM:
        raise access_denied(f"Unsupported x-amz-algorithm; expected {ALGORITHM}.")
    parts = fields.get("x-amz-credential", "").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise access_denied("Malformed x-amz-credential.")
    if parts[0] != ACCESS_KEY_ID:
        raise StorageError("InvalidAccessKeyId",
                           "The access key Id in x-amz-credential does not exist.", 403)
    expected = sign_policy(secret, policy_b64, parts[1], parts[2], parts[3])
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise signature_mismatch()
    doc = decode_policy(policy_b64)
    if now >= _parse_expiration(doc["expiration"]):
        raise expired()
    size = SizeRange(0, cap)
    covered = set(UNCONDITIONED)
    for cond in doc["conditions"]:
        if isinstance(cond, dict) and len(cond) == 1:
            name, value = next(iter(cond.items()))
            name = name.lower()
            covered.add(name)
            actual = bucket if name == "bucket" else fields.get(name)
            if actual != value:
                raise _condition_failed(cond)
        elif isinstance(cond, list) and len(cond) == 3 and cond[0] == "content-length-range":
            lo, hi = cond[1], cond[2]
            if not isinstance(lo, int) or not isinstance(hi, int) or lo < 0 or hi < lo:
                raise bad_request("InvalidPolicyDocument",
                                  "Invalid Policy: bad content-length-range.")
            size = SizeRange(max(size.minimum, lo), min(size.maximum, hi))
        elif isinstance(cond, list) and len(cond) == 3 and cond[0] in ("eq", "starts-with"):
            name = _field_name(cond[1])
            covered.add(name)
            actual = bucket if name == "bucket" else fields.get(name, "")
            ok = actual == cond[2] if cond[0] == "eq" else actual.startswith(str(cond[2]))
            if not ok:
                raise _condition_failed(cond)
        else:
            raise bad_request("InvalidPolicyDocument",
                              f"Invalid Policy: unknown condition {json.dumps(cond)}.")
    extra = sorted(n for n in fields if n not in covered and not n.startswith("x-ignore-"))
    if extra:
        raise access_denied(
            f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")
    if size.minimum > size.maximum:
        raise access_denied("Invalid according to Policy: the allowed size is above the "
                            "storage limit.")
    return size


def _get_string(bucket: str, key: str, expires: int) -> str:
    return f"GET\n/{bucket}/{key}\n{expires}"


def sign_get(secret: str, bucket: str, key: str, expires: int) -> str:
    """Signature of a download URL valid until the unix time ``expires``."""
    derived = _hmac(("RELAY-GET" + secret).encode("utf-8"), "download")
    return hmac.new(derived, _get_string(bucket, key, expires).encode("utf-8"),
                    hashlib.sha256).hexdigest()


def verify_get(secret: str, bucket: str, key: str, expires: str | None,
               signature: str | None, now: float) -> None:
    """Check a signed download URL; raise a 403 StorageError when it is not valid now."""
    if not expires or not signature:
        raise access_denied("Query-string authentication requires the Expires and "
                            "Signature parameters.")
    try:
        when = int(expires)
    except ValueError as exc:
        raise access_denied("Invalid Expires parameter.") from exc
    if not hmac.compare_digest(sign_get(secret, bucket, key, when), signature.lower()):
        raise signature_mismatch()
    if now >= when:
        raise expired()
