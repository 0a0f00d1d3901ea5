"""Who may do what: API keys (hashed at rest), roles, and masking of personal data.

| role | may |
|---|---|
| `hospital` | pre-settle, settle and reverse its own claims (`fixmedins_code`), read its own settlements |
| `insurance_office` | everything on persons, identities and claims |
| `civil_affairs` | manage identities; read persons and their years (assistance, warning lists) |
| `auditor` | read everything, including the audit log; change nothing |

Identity numbers, names, telephones and addresses are shown only to the roles that manage
persons (`insurance_office`, `civil_affairs`); others see them masked. The audit log never holds
them at all.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from tuodi.store import repository as repo

PERMISSIONS: dict[str, frozenset[str]] = {
    "person.write": frozenset({"insurance_office"}),
    "person.read": frozenset({"insurance_office", "civil_affairs", "auditor"}),
    "identity.write": frozenset({"insurance_office", "civil_affairs"}),
    "settle": frozenset({"hospital", "insurance_office"}),
    "settlement.read": frozenset({"hospital", "insurance_office", "auditor"}),
    "year.read": frozenset({"insurance_office", "civil_affairs", "auditor"}),
    "audit.read": frozenset({"auditor"}),
}
SEES_PERSONAL_DATA = frozenset({"insurance_office", "civil_affairs"})


@dataclass(frozen=True)
class Principal:
    key_id: int
    role: str
    hospital_code: str | None = None

    def may(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]

    @property
    def sees_personal_data(self) -> bool:
        return self.role in SEES_PERSONAL_DATA


class KeyCache:
    """Recently checked keys, by hash, for `ttl` seconds: which key id and role a bearer key is,
    without a transaction of its own for each request.

    The cache only says who a key *was*; whether it is still live is checked by every request
    inside its own transaction (`repository.key_is_live`, see `tuodi.service.app`), so a key
    revoked by `tuodi apikey revoke`, from any process, is refused on the very next request
    (CONTRACT.md, Who sees what) at the price of one primary-key read in a transaction the
    request opens anyway."""

    def __init__(self, ttl: float = 30.0):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, Principal]] = {}

    def lookup(self, db, key: str) -> Principal | None:
        h = repo.hash_key(key)
        t = time.monotonic()
        with self._lock:
            hit = self._keys.get(h)
        if hit is not None and hit[0] > t:
            return hit[1]
        with db.read() as conn:
            row = repo.key_by_hash(conn, h)
        if row is None:
            return None
        p = Principal(row.id, row.role, row.hospital_code)
        with self._lock:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[h] = (t + self.ttl, p)
        return p

    def forget(self, key_id: int) -> None:
        """Drop a key found revoked, so its next request is refused before any work."""
        with self._lock:
            for h in [h for h, (_t, p) in self._keys.items() if p.key_id == key_id]:
                del self._keys[h]


def mask_certno(v: str | None) -> str | None:
    """`230102195603021234` -> `230102********1234`: the region stays, birth date hidden."""
    return None if not v else v[:6] + "*" * (len(v) - 10) + v[-4:]


def mask_name(v: str | None) -> str | None:
    """`张桂兰` -> `张**`."""
    return None if not v else v[0] + "*" * (len(v) - 1)


def mask_tel(v: str | None) -> str | None:
    if not v:
        return None
    return v[:3] + "*" * max(0, len(v) - 7) + v[-4:] if len(v) > 7 else "*" * len(v)


def mask_addr(v: str | None) -> str | None:
    return None if not v else v[:6] + "…"
