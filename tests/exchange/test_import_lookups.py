"""Lookup columns (issue 14): a value names an existing one by its code or its label in either
language, ignoring case and spacing; a value that matches nothing is new, listed with its rows,
and created only once confirmed; a refused file leaves the database as it was."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.models import Customer, Industry, Region
from exchange.lookups import Lookup, match_key, name_labels
from exchange.models import ImportJob
from exchange.services import import_file
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    """The demo seed's bilingual names."""
    return {
        "retail": Industry.objects.create(name="零售 Retail"),
        "electronics": Industry.objects.create(name="电子 Electronics"),
        "east": Region.objects.create(name="华东 East China"),
        "southwest": Region.objects.create(name="西南 Southwest"),
    }


def database_state() -> dict:
    return {
        "industries": sorted(Industry.objects.values_list("name", flat=True)),
        "regions": sorted(Region.objects.values_list("name", flat=True)),
        "customers": sorted(Customer.objects.values_list("code", "name", "industry_id", "region_id", "owner_id")),
        "history": Customer.history.count(),
    }


def test_names_and_their_labels():
    assert match_key("  East   CHINA ") == match_key("eastchina") == match_key("ＥＡＳＴ　China") == "eastchina"
    assert name_labels("华东 East China") == {"华东 East China", "华东", "East China"}
    assert name_labels("Retail") == {"Retail"}
    assert name_labels("深圳市龙华区") == {"深圳市龙华区"}


@pytest.mark.parametrize(
    ("industry", "region"),
    [
        ("Retail", "East China"),  # the English label, as the template's example writes it
        ("retail", "east china"),
        ("  RETAIL  ", "  EAST    CHINA "),  # any case, extra spaces
        ("零售", "华东"),  # the Chinese label
        ("零 售", " 华东 "),
        ("零售 Retail", "华东 East China"),  # the whole name
        ("零售retail", "华东  east  china"),
        ("ＲＥＴＡＩＬ", "ＥａｓｔＣｈｉｎａ"),  # full-width letters, as Chinese input methods type them
    ],
)
def test_a_label_in_either_language_matches_its_existing_value(csv_file, seeded, industry, region):
    path = csv_file("code,name,industry,region", f"K1,甲,{industry},{region}", "K2,乙,Electronics,西南")

    report = import_file(kind="customers", path=path)

    assert report.ok, report.lines()
    assert report.new_values == []
    first, second = Customer.objects.get(code="K1"), Customer.objects.get(code="K2")
    assert (first.industry, first.region) == (seeded["retail"], seeded["east"])
    assert (second.industry, second.region) == (seeded["electronics"], seeded["southwest"])
    assert Industry.objects.count() == 2 and Region.objects.count() == 2


def test_a_whole_name_wins_over_a_label_and_a_shared_label_is_ambiguous(csv_file, seeded):
    plain = Industry.objects.create(name="Retail")  # made by an earlier import, beside "零售 Retail"
    Industry.objects.create(name="电子 Electronic Parts")

    report = import_file(kind="customers", path=csv_file("code,name,industry", "K1,甲,retail", "K2,乙,电子"))

    assert [(p.line, p.column, p.value, p.message()) for p in report.problems] == [
        (
            3,
            "industry",
            "电子",
            "Matches more than one existing value (电子 Electronic Parts, 电子 Electronics): "
            "write the one you mean in full.",
        ),
    ]
    assert Customer.objects.count() == 0
    report = import_file(
        kind="customers", path=csv_file("code,name,industry", "K1,甲,retail", "K2,乙,电子 electronics")
    )
    assert report.ok
    assert Customer.objects.get(code="K1").industry == plain
    assert Customer.objects.get(code="K2").industry == seeded["electronics"]


def test_choice_columns_and_owners_ignore_case_and_spacing(csv_file):
    owner = UserFactory(username="li.wei")
    path = csv_file(
        "code,name,kind,status,churned_on,churn_reason,credit_terms,owner",
        "K1,甲, Individual ,CHURNED,2025-01-01,Product  Quality,预付,LI.WEI ",
        "K2,乙,company,活 跃,,,credit,li.wei",
    )

    report = import_file(kind="customers", path=path)

    assert report.ok, report.lines()
    first, second = Customer.objects.get(code="K1"), Customer.objects.get(code="K2")
    assert (first.kind, first.status, first.churn_reason, first.credit_terms, first.owner) == (
        "individual",
        "churned",
        "quality",
        "prepaid",
        owner,
    )
    assert (second.status, second.owner) == ("active", owner)


def test_an_unknown_user_is_still_refused(csv_file):
    report = import_file(kind="customers", path=csv_file("code,name,owner", "K1,甲,nobody"))
    assert [(p.column, p.message()) for p in report.problems] == [("owner", "Unknown user name.")]


# new values -------------------------------------------------------------------------------------

NEW_VALUES_FILE = (
    "code,name,industry,region",
    "K1,甲,Retail,Atlantis",
    "K2,乙,Aerospace,East China",
    "K3,丙,retail,  atlantis ",  # the same new value, spelled another way
    "K4,丁,零售,华东",
)


def test_new_values_are_listed_with_their_rows_and_the_file_refused_without_confirmation(csv_file, seeded):
    path = csv_file(*NEW_VALUES_FILE)
    before = database_state()

    report = import_file(kind="customers", path=path)

    assert not report.ok and report.file_error.code == "new_values"
    assert report.file_error.message() == (
        "The file names 2 new values, listed below, that were not confirmed: nothing was written. Confirm them to "
        "have them created, or correct the file."
    )
    assert [(v.column, v.value, v.rows, v.lines) for v in report.new_values] == [
        ("industry", "Aerospace", 1, [3]),
        ("region", "Atlantis", 2, [2, 4]),
    ]
    assert report.lines()[1:3] == [
        "New industry “Aerospace”: 1 rows, lines 3.",
        "New region “Atlantis”: 2 rows, lines 2, 4.",
    ]
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    assert database_state() == before  # nothing created behind anyone's back


def test_the_check_lists_new_values_and_counts_and_the_confirmed_import_creates_each_once(csv_file, seeded):
    path = csv_file(*NEW_VALUES_FILE)

    check = import_file(kind="customers", path=path, dry_run=True)

    assert check.ok and [(v.column, v.value, v.lines) for v in check.new_values] == [
        ("industry", "Aerospace", [3]),
        ("region", "Atlantis", [2, 4]),
    ]
    assert (check.created, check.updated, check.unchanged) == (4, 0, 0)
    assert Region.objects.count() == 2 and Industry.objects.count() == 2

    confirmed = {value.column: [value.key] for value in check.new_values}
    report = import_file(kind="customers", path=path, create_new_values=confirmed)

    assert report.ok, report.lines()
    assert sorted(Region.objects.values_list("name", flat=True)) == ["Atlantis", "华东 East China", "西南 Southwest"]
    assert sorted(Industry.objects.values_list("name", flat=True)) == ["Aerospace", "电子 Electronics", "零售 Retail"]
    by_code = {c.code: (c.industry.name, c.region.name) for c in Customer.objects.select_related("industry", "region")}
    assert by_code == {
        "K1": ("零售 Retail", "Atlantis"),
        "K2": ("Aerospace", "华东 East China"),
        "K3": ("零售 Retail", "Atlantis"),
        "K4": ("零售 Retail", "华东 East China"),
    }


def test_only_the_confirmed_new_values_may_be_created(csv_file, seeded):
    """A value that was not in the confirmed check (the file or the database changed since) refuses the file."""
    path = csv_file(*NEW_VALUES_FILE)
    before = database_state()

    report = import_file(kind="customers", path=path, create_new_values={"region": [match_key("Atlantis")]})

    assert report.file_error.code == "new_values" and database_state() == before


def test_the_database_is_unchanged_after_a_refused_file(csv_file, seeded):
    path = csv_file(
        "code,name,industry,region,since", "K1,甲,Retail,Atlantis,2021-01-01", "K2,乙,Aerospace,华东,2021-02-30"
    )
    before = database_state()

    report = import_file(kind="customers", path=path, create_new_values=True)

    assert [(p.line, p.column) for p in report.problems] == [(3, "since")]
    assert database_state() == before


def test_too_many_new_values_is_a_file_problem(csv_file, settings):
    settings.IMPORT_REPORT_MAX_PROBLEMS = 3
    path = csv_file("code,name,region", *[f"K{n},甲,Region {n}" for n in range(5)])

    report = import_file(kind="customers", path=path, dry_run=True)

    assert report.file_error.message() == "The file names more than 3 new values for region: is it the right column?"


def test_lookup_prefers_the_whole_name():
    lookup = Lookup.of_names([(1, "零售 Retail"), (2, "Retail")])
    assert (lookup.find("RETAIL").id, lookup.find("零售").id, lookup.find("零售 retail").id) == (2, 1, 1)
    assert not lookup.find("Atlantis").found and not lookup.find("Atlantis").ambiguous


# the command ------------------------------------------------------------------------------------


def test_command_lists_new_values_and_refuses_without_the_flag(csv_file, seeded, capsys):
    path = csv_file(*NEW_VALUES_FILE)
    before = database_state()

    with pytest.raises(CommandError) as raised:
        call_command("import_data", "customers", path, "--no-analysis")

    assert raised.value.returncode == 1
    assert str(raised.value) == (
        "Nothing was imported: 2 new value(s), listed above. Correct the file, or run again with --create-new-values "
        "to create them."
    )
    out = capsys.readouterr().out
    assert "New industry “Aerospace”: 1 rows, lines 3." in out and "New region “Atlantis”: 2 rows, lines 2, 4." in out
    assert database_state() == before

    call_command("import_data", "customers", path, "--dry-run")
    out = capsys.readouterr().out
    assert (
        "Dry run, nothing written: 4 rows of customers (csv, utf-8): would create 4, would update 0, unchanged 0" in out
    )
    assert "2 new value(s), listed above: created only with --create-new-values." in out
    assert database_state() == before

    call_command("import_data", "customers", path, "--create-new-values", "--no-analysis")
    assert "created 4, updated 0, unchanged 0" in capsys.readouterr().out
    assert (
        Region.objects.filter(name="Atlantis").count() == 1 and Industry.objects.filter(name="Aerospace").count() == 1
    )


# the import page --------------------------------------------------------------------------------


@pytest.fixture
def web(client, executive_user, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    client.force_login(executive_user)

    class Web:
        def upload(self, text: str, kind: str = "customers"):
            from django.core.files.uploadedfile import SimpleUploadedFile

            file = SimpleUploadedFile(f"{kind}.csv", text.encode("utf-8"), content_type="text/csv")
            with django_capture_on_commit_callbacks(execute=True):
                client.post(reverse("exchange:imports"), {"kind": kind, "file": file})
            return ImportJob.objects.latest("pk")

        def confirm(self, job, **fields):
            with django_capture_on_commit_callbacks(execute=True):
                return client.post(reverse("exchange:import_confirm", args=[job.pk]), fields, follow=True)

        def page(self, job) -> str:
            return client.get(job.get_absolute_url()).content.decode()

    return Web()


def test_the_page_lists_new_values_and_creates_them_only_once_confirmed(web, seeded):
    before = database_state()
    job = web.upload("\n".join(NEW_VALUES_FILE) + "\n")
    assert job.status == ImportJob.Status.READY
    assert [(v["column"], v["value"], v["rows"], v["lines"]) for v in job.preview["new_values"]] == [
        ("industry", "Aerospace", 1, [3]),
        ("region", "Atlantis", 2, [2, 4]),
    ]
    page = web.page(job)
    assert "The file names 2 values that do not exist yet." in page
    assert '<td>region</td><td>Atlantis</td><td class="num">2</td><td>2, 4</td>' in page
    assert (
        'name="create_new_values"' in page and "Create the 2 new values" in page and "Upload a corrected file" in page
    )

    # confirming without ticking the new values does nothing
    response = web.confirm(job)
    assert "Confirm the new values to have them created, or upload a corrected file: nothing was imported." in (
        response.content.decode()
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY and database_state() == before

    # ticked: the import runs and creates each new value once
    web.confirm(job, create_new_values="yes")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.report
    assert (job.report["created"], job.report["updated"], job.report["unchanged"]) == (4, 0, 0)
    assert (
        Region.objects.filter(name="Atlantis").count() == 1 and Industry.objects.filter(name="Aerospace").count() == 1
    )
    assert "New values created" in web.page(job)


def test_a_file_without_new_values_needs_no_tick(web, seeded):
    job = web.upload("code,name,industry,region\nK1,甲,Retail,华东\n")
    assert job.preview["new_values"] == [] and 'name="create_new_values"' not in web.page(job)
    web.confirm(job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED and Customer.objects.get().industry == seeded["retail"]
