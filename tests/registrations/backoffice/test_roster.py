"""Importing the member roster from CSV: forgiving about form, strict about content."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from registrations.backoffice.roster import RosterError, import_roster
from registrations.models import Brigade, RosterEntry


def _csv(*lines: str, separator: str = ",") -> bytes:
    return ("\n".join(line.replace(",", separator) for line in lines) + "\n").encode()


def _roster(programme) -> list[tuple]:
    return list(
        RosterEntry.objects.filter(programme=programme)
        .order_by("name")
        .values_list("name", "email", "brigade", "years_of_service", "is_former")
    )


def test_imports_members_with_optional_years_and_status(programme):
    data = _csv(
        "name,email,brigade,years,status",
        "Jan de Vries,jan@example.org,Soest,25,lid",
        "Els Bakker,els@example.org,SOESTERBERG,,oud-lid",
        "Piet Jansen,piet@example.org,soesterberg,0,",
    )

    result = import_roster(programme.pk, data)

    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert _roster(programme) == [
        ("Els Bakker", "els@example.org", Brigade.SOESTERBERG, None, True),
        ("Jan de Vries", "jan@example.org", Brigade.SOEST, 25, False),
        ("Piet Jansen", "piet@example.org", Brigade.SOESTERBERG, 0, False),
    ]


def test_reads_excel_file_with_semicolons_bom_and_dutch_column_names(programme):
    data = "\ufeff" + "Naam;E-mailadres;Korps;Dienstjaren;Status\r\n"
    data += "Jürgen Smit;jurgen@example.org;Soest;12;Oud-lid\r\n"
    data += '"Bakker, Els";els@example.org;Soesterberg;3;lid\r\n'

    result = import_roster(programme.pk, data.encode("utf-8"))

    assert result.created == 2
    assert _roster(programme) == [
        ("Bakker, Els", "els@example.org", Brigade.SOESTERBERG, 3, False),
        ("Jürgen Smit", "jurgen@example.org", Brigade.SOEST, 12, True),
    ]


def test_reads_excel_plain_csv_in_windows_1252(programme):
    data = "naam;email;korps\r\nJürgen Smit;jurgen@example.org;Soest\r\n".encode("cp1252")

    import_roster(programme.pk, data)

    assert _roster(programme)[0][0] == "Jürgen Smit"


def test_bad_rows_are_all_reported_by_line_and_nothing_is_imported(programme):
    data = _csv(
        "name,email,brigade,years,status",
        "Jan de Vries,jan@example.org,Soest,25,lid",
        ",anoniem@example.org,Soest,,",
        "Els Bakker,,Soest,,",
        "Piet Jansen,piet@example,Baarn,81,erelid",
        "",
        "Kees Kok,kees@example.org,,tien,",
    )

    with pytest.raises(RosterError) as raised:
        import_roster(programme.pk, data)

    assert raised.value.errors == [
        "Regel 3: naam ontbreekt",
        "Regel 4: e-mailadres ontbreekt",
        "Regel 5: e-mailadres “piet@example” is ongeldig",
        "Regel 5: korps “Baarn” kennen we niet; kies Soest of Soesterberg",
        "Regel 5: dienstjaren “81” moeten een heel getal van 0 tot en met 80 zijn",
        "Regel 5: status “erelid” kennen we niet; kies lid of oud-lid",
        "Regel 7: korps ontbreekt (Soest of Soesterberg)",
        "Regel 7: dienstjaren “tien” moeten een heel getal van 0 tot en met 80 zijn",
    ]
    assert raised.value.details == {"errors": raised.value.errors}
    assert str(raised.value) == "De ledenlijst is niet ingelezen; er is niets veranderd."
    assert RosterEntry.objects.count() == 0


def test_same_email_twice_in_one_file_is_an_error(programme):
    data = _csv(
        "name,email,brigade",
        "Jan de Vries,jan@example.org,Soest",
        "Jan de Vries,JAN@example.org,Soest",
    )

    with pytest.raises(RosterError) as raised:
        import_roster(programme.pk, data)

    assert raised.value.errors == ["Regel 3: e-mailadres JAN@example.org staat ook al op regel 2"]
    assert RosterEntry.objects.count() == 0


def test_missing_required_column_is_named(programme):
    with pytest.raises(RosterError) as raised:
        import_roster(programme.pk, _csv("naam,dienstjaren", "Jan,3"))

    assert raised.value.errors == [
        "Kolom “e-mail / email” ontbreekt in de eerste regel (de kolomnamen).",
        "Kolom “korps / brigade” ontbreekt in de eerste regel (de kolomnamen).",
    ]


@pytest.mark.parametrize(
    "data", [b"", b"name,email,brigade\n", b"\xef\xbb\xbfnaam;email;korps\r\n;;\r\n"]
)
def test_file_without_members_is_refused(programme, data):
    with pytest.raises(RosterError):
        import_roster(programme.pk, data)


def test_reimport_updates_by_email_instead_of_duplicating(programme, make_programme):
    import_roster(
        programme.pk,
        _csv(
            "name,email,brigade,years,status",
            "Jan de Vries,jan@example.org,Soest,25,lid",
            "Els Bakker,els@example.org,Soesterberg,3,lid",
            "Piet Jansen,piet@example.org,Soest,40,oud-lid",
        ),
    )
    other = make_programme()
    import_roster(other.pk, _csv("name,email,brigade", "Jan de Vries,jan@example.org,Soest"))

    # A newer list: Jan's address in capitals and one more year, Els unchanged, Piet left out,
    # Kees new.
    result = import_roster(
        programme.pk,
        _csv(
            "name,email,brigade,years,status",
            "Jan de Vries,JAN@example.org,Soest,26,lid",
            "Els Bakker,els@example.org,Soesterberg,3,lid",
            "Kees Kok,kees@example.org,Soesterberg,,lid",
        ),
    )

    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert _roster(programme) == [
        ("Els Bakker", "els@example.org", Brigade.SOESTERBERG, 3, False),
        ("Jan de Vries", "JAN@example.org", Brigade.SOEST, 26, False),
        ("Kees Kok", "kees@example.org", Brigade.SOESTERBERG, None, False),
        ("Piet Jansen", "piet@example.org", Brigade.SOEST, 40, True),
    ]
    assert RosterEntry.objects.filter(programme=other).count() == 1


def test_reimport_without_optional_columns_keeps_years_and_status(programme):
    import_roster(
        programme.pk,
        _csv("name,email,brigade,years,status", "Jan,jan@example.org,Soest,25,oud-lid"),
    )

    result = import_roster(
        programme.pk, _csv("name,email,brigade", "Jan de Vries,jan@example.org,Soest")
    )

    assert result.updated == 1
    assert _roster(programme) == [("Jan de Vries", "jan@example.org", Brigade.SOEST, 25, True)]


def test_a_bad_reimport_leaves_the_roster_as_it_was(programme):
    import_roster(programme.pk, _csv("name,email,brigade", "Jan,jan@example.org,Soest"))

    with pytest.raises(RosterError):
        import_roster(
            programme.pk,
            _csv("name,email,brigade", "Jan de Vries,jan@example.org,Soest", "Els,,Soest"),
        )

    assert _roster(programme) == [("Jan", "jan@example.org", Brigade.SOEST, None, False)]


def test_command_imports_and_prints_counts(programme, tmp_path, capsys):
    path = tmp_path / "leden.csv"
    path.write_bytes(_csv("naam;email;korps", "Jan;jan@example.org;Soest", separator=";"))

    call_command("import_roster", programme.slug, str(path))

    assert "1 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert RosterEntry.objects.filter(programme=programme).count() == 1


def test_command_prints_row_errors_and_fails(programme, tmp_path, capsys):
    path = tmp_path / "leden.csv"
    path.write_bytes(_csv("name,email,brigade", "Jan,,Soest"))

    with pytest.raises(CommandError, match="niet ingelezen"):
        call_command("import_roster", programme.slug, str(path))

    assert "Regel 2: e-mailadres ontbreekt" in capsys.readouterr().err
    assert RosterEntry.objects.count() == 0


def test_command_refuses_unknown_programme_and_missing_file(programme, tmp_path):
    with pytest.raises(CommandError, match="No programme"):
        call_command("import_roster", "bestaat-niet", str(tmp_path / "leden.csv"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_roster", programme.slug, str(tmp_path / "leden.csv"))
