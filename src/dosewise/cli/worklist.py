"""``dosewise worklist``: what is due or overdue, as a named user sees it in the web app and the
API (their sites, their queries, "mine"), from the one derivation
:func:`dosewise.trial.services.worklist.worklist`."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from dosewise.cli.app import app
from dosewise.cli.options import print_json
from dosewise.cli.trial import DatabaseOption, JsonFlag, _database, _settings, _table, console
from dosewise.errors import InvalidInput
from dosewise.store.tables import User
from dosewise.trial.audit import Actor
from dosewise.trial.refusals import refusal
from dosewise.trial.services import worklist as service
from dosewise.trial.uow import UnitOfWork


@app.command("worklist")
def worklist_cmd(
    user: Annotated[
        str, typer.Option("--user", help="List as this user sees it (role, site, mine).")
    ],
    site: Annotated[str | None, typer.Option(help="One site (S01 …).")] = None,
    kind: Annotated[str | None, typer.Option(help=f"One kind: {', '.join(service.KINDS)}.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue items.")] = False,
    mine: Annotated[bool, typer.Option("--mine", help="Only what the user may act on.")] = False,
    database_url: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Visits, DLT adjudications, BOR assessments, signatures, queries and dose decisions due."""
    flt = service.WorklistFilter(
        site_id=site, kind=kind, overdue=True if overdue else None, mine=mine
    )
    with _database(_settings(database_url)) as db:
        with UnitOfWork(db, Actor.system("cli"), readonly=True) as uow:
            found = uow.session.scalar(select(User).where(User.username == user))
            if found is None:
                raise refusal(InvalidInput, "user", user, "no_such_user")
            actor = Actor.of(found)
        context = {"via": "cli", "command": "worklist"}
        with UnitOfWork(db, actor, readonly=True, context=context) as uow:
            result = service.worklist(uow, flt)
    if as_json:
        print_json(result.to_dict())
        return
    counts = result.counts
    console.print(
        f"as of {result.as_of}, sites {', '.join(result.sites)}: {counts['total']} items, "
        f"{counts['overdue']} overdue, {counts['mine']} for {user}"
    )
    _table(
        "Worklist",
        ["due", "overdue", "kind", "study ID", "site", "mine", "where"],
        [
            [
                i.due_on.isoformat(),
                f"{i.days_overdue} d" if i.overdue else "",
                i.kind,
                i.study_id,
                i.site_id,
                "yes" if i.mine else "",
                f"/participants/{i.study_id}#{i.anchor}",
            ]
            for i in result.items
        ],
    )
