"""The backup recipe of the README works: `pg_dump -Fc` of the database plus an archive of
PRIVATE_MEDIA_ROOT, restored elsewhere, give back a registration and a budget attachment with
its file.

The dump is of the test database (a throwaway one) after the rows are committed; it is restored
into a second throwaway database, dropped at the end.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tarfile
from decimal import Decimal

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from psycopg import sql

from budget import services
from budget.inputs import ExpenseInput
from budget.models import Budget
from events.models import ProgrammeRole
from jubileum.lib.env import env_bool

PDF = b"%PDF-1.4\n% offerte Verhuurbedrijf De Eembocht\n%%EOF\n"


def _tools_missing() -> str | None:
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if not missing:
        return None
    reason = f"{' and '.join(missing)} not found (apt-get install postgresql-client)"
    if env_bool("JUBILEUM_REQUIRE_POSTGRES"):
        pytest.fail(f"JUBILEUM_REQUIRE_POSTGRES=1 but {reason}.")
    return reason


@pytest.fixture
def postgres_tools():
    reason = _tools_missing()
    if reason:
        pytest.skip(reason)


def conninfo(dbname: str) -> str:
    settings = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=dbname,
    )


@pytest.fixture
def restored_database():
    """An empty database to restore into; dropped afterwards. Named after the test database,
    so runs side by side (pytest-xdist's workers, another checkout) each have their own."""
    name = f"{connection.settings_dict['NAME']}_restored"

    def admin(statement: sql.Composable) -> None:
        with psycopg.connect(conninfo("postgres"), autocommit=True) as server:
            server.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    admin(drop)
    admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield conninfo(name)
    admin(drop)


@pytest.mark.postgres
def test_pg_dump_and_private_media_archive_restore_registration_and_attachment(
    transactional_db,
    postgres_tools,
    restored_database,
    private_media,
    tmp_path,
    programme,
    make_registration,
):
    registration = make_registration(contact_name="Marieke de Brandweervrouw")
    organiser = get_user_model().objects.create_user(username="anne")
    ProgrammeRole.objects.create(
        user=organiser, programme=programme, role=ProgrammeRole.Role.ORGANISER
    )
    budget = Budget.objects.create(programme=programme, total=Decimal("8000.00"))
    expense = services.record_expense(
        budget,
        ExpenseInput(
            category_id=budget.categories.get(name="Huur").pk,
            supplier="Verhuurbedrijf De Eembocht",
            description="Tent 10 x 20 m",
            date=dt.date(2027, 1, 20),
            amount_excl_vat=Decimal("875.00"),
            vat_rate=21,
        ),
        by=organiser,
    )
    upload = SimpleUploadedFile("offerte.pdf", PDF, content_type="application/pdf")
    attachment = services.add_attachment(expense.pk, upload, "quote", by=organiser)
    dump, archive = tmp_path / "jubileum.dump", tmp_path / "private.tar.gz"

    # Back up, as the README says.
    subprocess.run(
        [
            "pg_dump",
            "-Fc",
            "--no-owner",
            "--file",
            str(dump),
            conninfo(connection.settings_dict["NAME"]),
        ],
        check=True,
        timeout=120,
    )
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(private_media, arcname="private")

    # Restore elsewhere.
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored_database, str(dump)],
        check=True,
        timeout=120,
    )
    elsewhere = tmp_path / "elders"
    with tarfile.open(archive) as tar:
        tar.extractall(elsewhere, filter="data")

    with psycopg.connect(restored_database) as restored:
        found = restored.execute(
            "SELECT contact_name, party_size FROM registrations_registration "
            "WHERE manage_token = %s",
            (registration.manage_token,),
        ).fetchone()
        stored = restored.execute(
            "SELECT file, original_name FROM budget_attachment WHERE id = %s", (attachment.pk,)
        ).fetchone()
    assert found == ("Marieke de Brandweervrouw", 2)
    assert stored == (attachment.file.name, "offerte.pdf")
    assert (elsewhere / "private" / stored[0]).read_bytes() == PDF
