"""Uploads in shared storage (issue 9): FILE_STORAGE=db keeps the bytes in the database, and
/media/<name> serves them through a permission check with DEBUG off, whatever the backend."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orderdesk.models import StoredFile
from orderdesk.storage import DatabaseStorage
from orders.models import ImportJob, Order
from tests import factories
from tests.factories import Cast, make_order, today
from tests.orders.test_pages_import import as_csv, sheet_rows

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a signed receipt\n%%EOF\n"
DB_STORAGE = {"BACKEND": "orderdesk.storage.DatabaseStorage"}


@pytest.fixture
def db_storage(settings):
    settings.STORAGES = {**settings.STORAGES, "default": DB_STORAGE}
    default_storage.exists("x")  # set the lazy object up
    assert isinstance(default_storage._wrapped, DatabaseStorage)


def accept_with_scan(api_client_for, cast, order):
    scan = SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")
    response = api_client_for(cast.owner).post(
        f"/api/v1/orders/{order.pk}/transitions/accept/",
        {"signed_by": "Mr. Wang", "signed_on": today().isoformat(), "receipt_scan": scan}, format="multipart",
    )
    assert response.status_code == 200, response.content
    return Order.objects.get(pk=order.pk)


def test_the_db_storage_round_trip_and_names(db_storage):
    name = default_storage.save("receipts/a.pdf", SimpleUploadedFile("a.pdf", PDF))
    again = default_storage.save("receipts/a.pdf", SimpleUploadedFile("a.pdf", b"other"))
    assert name == "receipts/a.pdf" and again != name and again.startswith("receipts/a_")
    with default_storage.open(name) as handle:
        assert handle.read() == PDF
    assert default_storage.size(name) == len(PDF) and default_storage.exists(again)
    assert default_storage.listdir("receipts") == ([], sorted([name.split("/")[1], again.split("/")[1]]))
    default_storage.delete(again)
    assert not default_storage.exists(again)
    with pytest.raises(FileNotFoundError):
        default_storage.open("receipts/missing.pdf")


def test_a_receipt_scan_lives_in_the_database_and_is_served_only_to_who_sees_contacts(
    db_storage, api_client_for, client, settings, tmp_path, sales_assistant2
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cast = Cast()
    order = accept_with_scan(api_client_for, cast, make_order("shipped", cast=cast))
    stored = StoredFile.objects.get(name=order.receipt_scan.name)
    assert bytes(stored.content) == PDF and not (tmp_path / "media").exists()  # nothing on this node's disk

    url = order.receipt_scan.url
    assert url == f"/media/{order.receipt_scan.name}"
    client.force_login(cast.owner)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]

    for outsider in (sales_assistant2, cast.production_supervisor):  # other scope; no contact class
        client.force_login(outsider)
        assert client.get(url).status_code == 404, outsider
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(cast.owner)
    assert client.get("/media/receipts/not-a-scan.pdf").status_code == 404
    assert client.get("/media/../orderdesk/settings.py").status_code == 404


def test_the_scan_link_works_on_the_filesystem_storage_with_debug_off(api_client_for, client, settings):
    assert not settings.DEBUG
    cast = Cast()
    order = accept_with_scan(api_client_for, cast, make_order("shipped", cast=cast))
    assert order.receipt_scan.path.startswith(str(settings.MEDIA_ROOT))
    client.force_login(cast.owner)
    response = client.get(order.receipt_scan.url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_an_import_sheet_in_the_database_is_read_by_the_check_and_served_to_its_owner_only(
    db_storage, client, sales_assistant, sales_assistant2, django_capture_on_commit_callbacks
):
    customer = factories.CustomerFactory()
    products = [factories.ProductFactory(), factories.ProductFactory()]
    client.force_login(sales_assistant)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("orders:import"), {"file": as_csv(sheet_rows(customer, products))}).status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.READY and StoredFile.objects.filter(name=job.file.name).exists()
    assert client.get(job.file.url).status_code == 200
    client.force_login(sales_assistant2)
    assert client.get(job.file.url).status_code == 404


def test_file_storage_is_chosen_by_the_environment():
    from tests.ops.test_config import settings_in_subprocess

    assert settings_in_subprocess({"FILE_STORAGE": "db"}, "settings.STORAGES['default']") == DB_STORAGE
    assert settings_in_subprocess({}, "settings.STORAGES['default']['BACKEND']").endswith("FileSystemStorage")
    s3 = settings_in_subprocess({"FILE_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "b"}, "settings.STORAGES['default']")
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage" and s3["OPTIONS"]["bucket_name"] == "b"
