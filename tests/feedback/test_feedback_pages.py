"""Customer feedback on the order page: the survey answer, complaints recorded by sales, handled by the manager."""

import pytest
from django.urls import reverse

from feedback.models import Complaint
from feedback.services import survey_token
from tests.factories import Cast, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(sales_assistant, sales_manager):
    return make_order("accepted", cast=Cast(owner=sales_assistant, sales_manager=sales_manager))


def test_sales_record_a_complaint_and_the_manager_resolves_it(client, accepted, sales_assistant, sales_manager):
    client.force_login(sales_assistant)
    add = reverse("orders:complaint_add", args=[accepted.pk])
    assert client.post(add, {"kind": "complaint", "description": ""}).status_code == 400
    assert not Complaint.objects.exists()
    assert client.post(add, {"kind": "complaint", "description": "Late by two days."}).status_code == 302
    complaint = Complaint.objects.get()
    handle = reverse("orders:complaint_handle", args=[accepted.pk, complaint.pk])
    assert client.post(handle, {"status": "resolved", "resolution": "x"}).status_code == 403

    client.force_login(sales_manager)
    page = client.get(reverse("orders:detail", args=[accepted.pk])).content.decode()
    assert "Late by two days." in page and 'id="feedback"' in page
    assert client.post(handle, {"status": "resolved", "resolution": ""}).status_code == 400
    assert Complaint.objects.get().status == "open"
    assert client.post(handle, {"status": "resolved", "resolution": "Apologised; discount."}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.handled_by == sales_manager
    assert client.post(handle, {"status": "in_progress"}).status_code == 409


def test_production_neither_reads_nor_records_feedback(client, accepted, production_supervisor, sales_manager):
    client.post(f"/survey/{survey_token(accepted)}/", {"score": "3", "comment": "Packaging was poor."})
    client.force_login(sales_manager)
    assert "Packaging was poor." in client.get(reverse("orders:detail", args=[accepted.pk])).content.decode()
    client.force_login(production_supervisor)
    page = client.get(reverse("orders:detail", args=[accepted.pk])).content.decode()
    assert 'id="feedback"' not in page and "Packaging was poor." not in page
    response = client.post(reverse("orders:complaint_add", args=[accepted.pk]),
                           {"kind": "complaint", "description": "x"})
    assert response.status_code == 403
    assert not Complaint.objects.exists()


def test_another_assistants_order_is_404(client, accepted, sales_assistant2):
    client.force_login(sales_assistant2)
    response = client.post(reverse("orders:complaint_add", args=[accepted.pk]),
                           {"kind": "suggestion", "description": "x"})
    assert response.status_code == 404
    assert not Complaint.objects.exists()


def test_the_manager_sees_every_complaint_open_first(client, api_client_for, accepted, sales_assistant,
                                                     sales_manager, django_assert_max_num_queries):
    from tests.utils import call

    for text in ("Scratched housing", "Please call before delivery"):
        call(api_client_for(sales_assistant), "post", "/feedback/complaints/",
             {"order": accepted.pk, "kind": "complaint", "description": text}, expect=201)
    first = Complaint.objects.get(description="Scratched housing")
    call(api_client_for(sales_manager), "post", f"/feedback/complaints/{first.pk}/handle/",
         {"status": "resolved", "resolution": "Replaced."}, expect=200)
    client.force_login(sales_manager)
    with django_assert_max_num_queries(12):
        page = client.get("/supervision/complaints/").content.decode()
    assert page.index("Please call before delivery") < page.index("Scratched housing")  # open first
    only_open = client.get("/supervision/complaints/", {"status": "open"}).content.decode()
    assert "Please call before delivery" in only_open and "Scratched housing" not in only_open


def test_the_manager_and_the_auditor_have_the_complaints_page(client, sales_assistant, production_supervisor,
                                                              logistics_specialist, auditor, sales_manager):
    # issue 12: the auditor reads complaints too (read-only: no form to handle them)
    for user in (sales_assistant, production_supervisor, logistics_specialist):
        client.force_login(user)
        assert client.get("/supervision/complaints/").status_code == 403
    for user in (auditor, sales_manager):
        client.force_login(user)
        assert client.get("/supervision/complaints/").status_code == 200
