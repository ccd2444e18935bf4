"""The profit-vs-volume points on the wire (issue 17.6: payload under 1 MB at no CPU per request): the
points' answer is compressed once when stored and sent with Content-Encoding: gzip to a reader that
takes it, plain to one that does not; both decode to the same answer; a service rep still gets 403."""

import gzip
import json
import zlib

import pytest
from django.urls import reverse

from analytics import gzipped
from analytics.models import RunChart
from analytics.reports import Scope
from analytics.selectors import POINTS, POINTS_START, chart_key, profit_volume_points_text
from tests.analytics import test_reports
from tests.analytics.test_reports import decode, ids_of

book, run = test_reports.book, test_reports.run  # the same five customers and their run

pytestmark = pytest.mark.django_db
URL = "analytics:report_profit_volume"


# ------------------------------------------------------------------------------ the gzip stream itself


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (b'{"points":' + b"0123456789" * 50_000, b',"run":7}'),  # a long start, repeated: back-references
        (b"", b"{}"),
        (b"x", b""),
        ('{"points":"客户"'.encode(), ',"frame":"中文 ünïcode"}'.encode()),
    ],
)
def test_a_stored_start_and_a_fresh_end_make_one_valid_gzip_body(start, end):
    body = gzipped.closed(gzipped.opened(start), end)
    # then: Python's gzip (which checks the CRC-32 and the length) and a raw zlib reader read it whole
    assert gzip.decompress(body) == start + end
    assert zlib.decompress(body, 16 + zlib.MAX_WBITS) == start + end
    assert body[:2] == b"\x1f\x8b"


def test_a_wrong_crc_would_be_caught():
    """The check above can fail: a body whose trailer is off is refused by gzip."""
    body = bytearray(gzipped.closed(gzipped.opened(b"abc" * 100), b"def"))
    body[-8] ^= 0xFF
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(bytes(body))


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip, deflate, br, zstd", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("GZIP", True),
        ("*", True),
        ("x-gzip", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.0, br", False),
        ("*;q=0.5, gzip;q=0", False),
        ("deflate, *;q=0", False),
        ("gzip;q=bogus", False),
    ],
)
def test_accept_encoding(header, takes):
    assert gzipped.accepts_gzip(header) is takes


# ------------------------------------------------------------------------------------------ the view


def get(client, encoding=None, **params):
    headers = {"HTTP_ACCEPT_ENCODING": encoding} if encoding is not None else {}
    return client.get(reverse(URL), params, **headers)


def test_gzip_and_plain_answers_decode_to_the_same_figure(client, executive_user, run, book):
    client.force_login(executive_user)
    plain = get(client)
    squeezed = get(client, "gzip, deflate, br")
    # then: plain without Accept-Encoding, gzip with it; both vary on Accept-Encoding and stay private
    assert plain.status_code == squeezed.status_code == 200
    assert "Content-Encoding" not in plain and squeezed["Content-Encoding"] == "gzip"
    for response in (plain, squeezed):
        assert "Accept-Encoding" in response["Vary"]
        assert response["Content-Type"] == "application/json"
        assert response["Cache-Control"] == "private, max-age=3600"
    # and: the gzip body is the same answer, whole (gzip checks its CRC-32 and length)
    unzipped = json.loads(gzip.decompress(squeezed.content))
    assert unzipped == json.loads(plain.content)
    assert unzipped["run"] == run.pk and unzipped["customer_url"] == "/customers/0/"
    # and: the points in it are the run's, to the cent: K1 100,000.00 revenue, 5,000.00 profit
    by_id = {}
    for trace in unzipped["points"]["traces"]:
        for pk, revenue, profit in zip(
            ids_of(trace), decode(trace["revenue_cents"]), decode(trace["profit_cents"]), strict=True
        ):
            by_id[pk] = (revenue, profit)
    assert by_id[book["K1"].pk] == (10000000, 500000) and by_id[book["K5"].pk] == (2000000, -400000)
    assert unzipped["frame"]["figure"]["data"][0]["type"] == "scattergl"


def test_gzip_refused_by_q0_gets_plain(client, executive_user, run):
    client.force_login(executive_user)
    response = get(client, "gzip;q=0, br")
    assert "Content-Encoding" not in response
    assert json.loads(response.content)["points"]["count"] == 5


def test_the_points_are_compressed_once_when_stored_and_then_only_read(
    client, executive_user, run, django_assert_num_queries
):
    client.force_login(executive_user)
    get(client, "gzip")  # builds the frame and the points, and stores both
    key = chart_key(POINTS, scope=Scope(), language=None)
    stored = RunChart.objects.get(run=run, name=key)
    # then: the stored start is the points' answer start, compressed: '{"points":' and the stored points
    start = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(bytes(stored.gzipped)[:-8])
    assert json.loads(start[len(POINTS_START) :]) == stored.figure
    assert start.startswith(POINTS_START.encode())
    # and: later answers read it in one query, no compression of the points per request (the same
    # stored bytes start every body: only the small end differs)
    with django_assert_num_queries(7):  # session, user, roles; published run; frame; points; (savepoint-free)
        response = get(client, "gzip")
    assert response.content.startswith(bytes(stored.gzipped)[:-8])


def test_points_stored_before_without_their_gzip_get_it_once(client, executive_user, run):
    key = chart_key(POINTS, scope=Scope(), language=None)
    text = profit_volume_points_text(run=run, scope=Scope())
    RunChart.objects.filter(run=run, name=key).update(gzipped=None)
    client.force_login(executive_user)
    response = get(client, "gzip")
    assert json.loads(gzip.decompress(response.content))["points"] == json.loads(text)
    assert RunChart.objects.get(run=run, name=key).gzipped is not None


def test_a_filtered_answer_is_its_own_gzip(client, executive_user, sales_user, run):
    client.force_login(executive_user)
    response = get(client, "gzip", owner=sales_user.pk)
    assert json.loads(gzip.decompress(response.content))["points"]["count"] == 2  # K1 and K2


@pytest.mark.parametrize("role", ["service_user", "sales_user"])
def test_service_and_sales_get_403_gzip_or_not(client, request, role, run):
    client.force_login(request.getfixturevalue(role))
    for encoding in (None, "gzip"):
        response = get(client, encoding)
        assert response.status_code == 403
        assert "Content-Encoding" not in response
        assert b"points" not in response.content and b"Alpha" not in response.content
