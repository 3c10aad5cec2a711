"""Write acts in a loop until killed; print the number of each act once it has committed.

Run by ``test_crash_safety.py`` as ``python crash_writer.py <sqlite-url> <round>``. Each act
writes a participant, a screening with a large JSON document and an audit event, so a SIGKILL
lands in the middle of a multi-row write most of the time.
"""

from __future__ import annotations

import sys
from datetime import date

from dosewise.settings import Settings, cheap_hashing
from dosewise.store.session import open_database
from dosewise.store.tables import Participant, Screening
from dosewise.trial.audit import Actor
from dosewise.trial.uow import UnitOfWork


def main(url: str, round_: str) -> None:
    db = open_database(cheap_hashing(Settings(database_url=url)))
    actor = Actor(user_id=2, username="inv1", role="investigator", site_id="S01")
    filler = {"criteria": [{"id": f"C{i}", "met": True, "note": "x" * 200} for i in range(40)]}
    n = 0
    while True:
        n += 1
        with UnitOfWork(db, actor, context={"via": "crash-test"}) as uow:
            uow.act("participant.register", site_id="S01")
            now = uow.now()
            p = uow.add(
                Participant(
                    study_id=f"S01-{round_}-{n:05d}",
                    site_id="S01",
                    status="registered",
                    registered_on=date(2026, 1, 5),
                    created_at=now,
                    created_by=actor.user_id,
                )
            )
            uow.flush()
            uow.act("participant.screen", site_id="S01")
            uow.add(
                Screening(
                    participant_id=p.id,
                    arm_id="autologous",
                    screened_on=date(2026, 1, 5),
                    record=filler,
                    criteria=filler["criteria"],
                    eligible=True,
                    failed_criteria=[],
                    created_at=now,
                    created_by=actor.user_id,
                )
            )
            uow.event("participant.checked", "participants", p.id, after={"n": n})
            uow.commit()
        print(n, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
