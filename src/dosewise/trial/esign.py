"""Electronic signatures as 21 CFR Part 11 asks: name, time, meaning, password re-entry, binding.

- §11.50: a signature shows the signer's printed name, the date and time (UTC) and its meaning
  (authorship, review, approval, responsibility) — :func:`manifestation`.
- §11.70: it is bound to what was signed: the SHA-256 of the canonical JSON of the content is
  stored with the signature, and the manifest (who, when, meaning, content hash) is hashed too,
  so neither the content nor the signature can be changed or moved without :func:`verify`
  failing. Signatures are append-only in the database. Which columns of each kind of record
  are signed, and the check against the record's current row, live in
  :mod:`dosewise.trial.signed`.
- §11.200(a): the password is re-entered for every signature (stricter than the rule, which
  allows one component for later signings within a session). A wrong password counts towards
  the account's lock-out even though the act it was meant to sign is abandoned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dosewise.errors import DosewiseError, InvalidInput
from dosewise.settings import Settings
from dosewise.store.tables import SIGNATURE_MEANINGS, ESignature, User
from dosewise.trial.access import Passwords, is_locked, register_failure
from dosewise.trial.audit import canonical_json, iso_utc, sha256_hex
from dosewise.trial.uow import UnitOfWork

#: What each meaning commits the signer to (shown with the signature).
MEANING_TEXT = {
    "authorship": "I am the author of this record",
    "review": "I have reviewed this record",
    "approval": "I approve this record",
    "responsibility": "I take responsibility for this record",
}
assert tuple(MEANING_TEXT) == SIGNATURE_MEANINGS


@dataclass(frozen=True)
class Signing:
    """What an act needs to make an e-signature: the hasher, the settings, the re-entered
    password and the meaning (Part 11 §11.50). The API, the pages and the demo desk build one
    and pass it to the act that signs."""

    passwords: Passwords
    settings: Settings
    password: str
    meaning: str = "approval"


class SignatureRejected(DosewiseError):
    """The signature could not be made: wrong password, or the account cannot sign."""

    http_status = 403
    code = "signature_rejected"


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``content``."""
    return sha256_hex(canonical_json(content))


def _manifest(sig: ESignature) -> dict[str, Any]:
    return {
        "user_id": sig.user_id,
        "username": sig.username,
        "printed_name": sig.printed_name,
        "role": sig.role,
        "meaning": sig.meaning,
        "signed_at": sig.signed_at,
        "entity": sig.entity,
        "entity_id": sig.entity_id,
        "content_sha256": sig.content_sha256,
    }


def sign(
    uow: UnitOfWork,
    passwords: Passwords,
    settings: Settings,
    user: User,
    password: str,
    *,
    meaning: str,
    entity: str,
    entity_id: object,
    content: Mapping[str, Any],
) -> ESignature:
    """Sign ``content`` as ``user`` inside the caller's act; the flushed signature row.

    The caller names the act (``uow.act``) and commits; the signature is audited with it.
    """
    if meaning not in MEANING_TEXT:
        raise InvalidInput("meaning", meaning, f"must be one of {', '.join(MEANING_TEXT)}")
    now = uow.now()
    if not user.active or is_locked(user, now):
        raise SignatureRejected("username", user.username, "this account cannot sign now")
    if not password or not passwords.verify(user.password_hash, password):
        user_id = user.id

        def count_failure(fresh: UnitOfWork) -> None:
            register_failure(fresh, settings, fresh.get(User, user_id), "esign.password_failed")

        uow.on_failure(count_failure)
        raise SignatureRejected("password", "[hidden]", "re-enter your own password to sign")
    text = canonical_json(content)
    sig = ESignature(
        user_id=user.id,
        username=user.username,
        printed_name=user.full_name,
        role=user.role,
        site_id=user.site_id,
        meaning=meaning,
        signed_at=iso_utc(now),
        entity=entity,
        entity_id=str(entity_id),
        content=text,
        content_sha256=sha256_hex(text),
        manifest_sha256="",
    )
    sig.manifest_sha256 = sha256_hex(canonical_json(_manifest(sig)))
    uow.add(sig)
    uow.flush()
    return sig


@dataclass(frozen=True)
class SignatureCheck:
    """Whether a signature still binds: its manifest, its stored content, the given content."""

    ok: bool
    problems: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": list(self.problems)}


def verify(sig: ESignature, content: Mapping[str, Any] | None = None) -> SignatureCheck:
    """Re-hash the signature and what it signed; with ``content``, check it is the same thing."""
    problems = []
    if sha256_hex(sig.content) != sig.content_sha256:
        problems.append("the stored signed content no longer matches its hash")
    if sha256_hex(canonical_json(_manifest(sig))) != sig.manifest_sha256:
        problems.append("the signature's name, time, meaning or binding was altered")
    if content is not None and content_hash(content) != sig.content_sha256:
        problems.append("the record differs from what was signed")
    return SignatureCheck(not problems, tuple(problems))


def manifestation(sig: ESignature) -> dict[str, str]:
    """What every display and printout of a signed record shows (§11.50)."""
    return {
        "printed_name": sig.printed_name,
        "username": sig.username,
        "signed_at": sig.signed_at,
        "meaning": sig.meaning,
        "statement": MEANING_TEXT.get(sig.meaning, sig.meaning),
        "text": (
            f"Electronically signed by {sig.printed_name} ({sig.username}) on "
            f"{sig.signed_at} (UTC) — {sig.meaning}: {MEANING_TEXT.get(sig.meaning, '')}"
        ),
    }
