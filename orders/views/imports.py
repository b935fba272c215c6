"""Orders from a CSV or Excel sheet (R4.1, other channels): `/orders/import/…`; the sheet is read and
written by :mod:`orders.imports`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orderdesk import roles
from orderdesk.errors import Conflict, Forbidden, NotFound, ServiceError
from orders import imports as order_imports, selectors


def _import_job(user, pk):
    from orders.models import ImportJob

    try:
        return ImportJob.objects.get(pk=pk, user=user)
    except ImportJob.DoesNotExist:
        raise Http404 from None


@login_required
def import_start(request):
    from orders.forms import ImportForm
    from orders.models import ImportJob

    user = request.user
    if not roles.may(user, "order.import"):
        raise PermissionDenied(_("Your role may not import orders."))
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = order_imports.create_import_job(user=user, upload=form.cleaned_data["file"])
            except Forbidden as exc:
                raise PermissionDenied(str(exc.detail)) from None
            except ServiceError as exc:
                for problems in (exc.errors or {}).values():
                    for problem in problems:
                        form.add_error("file", str(problem))
                status = 400
            else:
                return redirect("orders:import_detail", pk=job.pk)
        else:
            status = 400
    else:
        form = ImportForm()
    jobs = ImportJob.objects.filter(user=user)[:10]
    return render(request, "orders/import_start.html",
                  {"form": form, "jobs": jobs, "columns": order_imports.IMPORT_COLUMNS}, status=status)


@login_required
def import_detail(request, pk: int):
    job = _import_job(request.user, pk)
    return render(request, "orders/import_detail.html", {"job": job, "orders": _imported_orders(request.user, job)})


def _imported_orders(user, job):
    return list(selectors.visible_orders(user).filter(pk__in=job.order_ids).select_related("customer")[:200])


@login_required
def import_status(request, pk: int):
    from django.http import JsonResponse

    job = _import_job(request.user, pk)
    return JsonResponse({
        "status": job.status, "status_display": job.get_status_display(), "percent": job.percent,
        "total_rows": job.total_rows, "processed_rows": job.processed_rows, "error_count": len(job.errors),
        "finished": job.status not in ("pending", "validating", "importing"),
    })


@login_required
@require_POST
def import_commit(request, pk: int):
    job = _import_job(request.user, pk)
    try:
        ids = order_imports.commit_import(user=request.user, job_id=job.pk)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        return render(request, "403.html", {"exception": str(exc.detail)}, status=403)
    except ServiceError as exc:
        job.refresh_from_db()
        messages.error(request, str(exc.detail))
        return render(request, "orders/import_detail.html", {"job": job, "orders": []},
                      status=409 if isinstance(exc, Conflict) else 400)
    messages.success(request, _("%(n)s orders were imported.") % {"n": len(ids)})
    return redirect("orders:import_detail", pk=job.pk)


@login_required
def import_template(request, kind: str):
    """A sheet with the import's columns and one example order of two lines."""
    import datetime
    import io

    from django.http import HttpResponse

    from orderdesk import exports
    from orders.models import Customer, Product

    if kind not in ("csv", "xlsx"):
        raise Http404
    customer = Customer.objects.order_by("code").first()
    products = list(Product.objects.filter(is_active=True).order_by("sku")[:2])
    when = (timezone.localdate() + datetime.timedelta(days=60)).isoformat()
    example = []
    for product in products or [None]:
        example.append([
            "A1", customer.code if customer else "C001", "phone", "Li Lei", "13800000000",
            "Shanghai, Pudong, 88 Century Avenue", when, "",
            product.sku if product else "SKU-1", product.specification if product and product.specification
            else "standard", "10", str(product.standard_price) if product else "100.00",
        ])
    if kind == "xlsx":
        book = exports.XlsxWriter("orders")
        book.append(order_imports.IMPORT_COLUMNS)
        for row in example:
            book.append(row)
        response = HttpResponse(book.to_bytes(), content_type=exports.XlsxWriter.content_type)
    else:
        buffer = io.StringIO()
        writer = exports.CsvRowWriter(buffer)
        writer.writerow(order_imports.IMPORT_COLUMNS)
        writer.writerows(example)
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="order-import-template.{kind}"'
    return response
