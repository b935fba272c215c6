"""The REST API under /api/v1/ (DESIGN §6)."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from feedback.api import views as feedback
from finance.api import views as finance
from logistics.api import views as logistics
from notifications.api import views as notifications
from orderdesk.api import api_not_found
from orderdesk.api_schema_view import SchemaView
from orderdesk.auth_api import LogoutView, TokenView
from orders.api import views as orders
from production.api import views as production
from supervision.api import views as supervision

router = SimpleRouter()
router.register("customers", orders.CustomerViewSet, basename="customer")
router.register("products", orders.ProductViewSet, basename="product")
router.register("users", orders.UserViewSet, basename="user")
router.register("orders", orders.OrderViewSet, basename="order")
router.register("clarifications", orders.ClarificationViewSet, basename="clarification")
router.register("notifications", notifications.NotificationViewSet, basename="notification")
router.register("workshops", production.WorkshopViewSet, basename="workshop")
router.register("production/plans", production.PlanViewSet, basename="plan")
router.register("production/progress", production.ProgressViewSet, basename="progress")
router.register("production/issues", production.IssueViewSet, basename="issue")
router.register("production/milestones", production.MilestoneViewSet, basename="milestone")
router.register("production/preparations", production.PreparationViewSet, basename="preparation")
router.register("production/handovers", production.HandoverViewSet, basename="handover")
router.register("production/moves", production.MoveViewSet, basename="workshop-move")
router.register("production/workshops", production.WorkshopLoadViewSet, basename="workshop-load")
router.register("logistics/shipments", logistics.ShipmentViewSet, basename="shipment")
router.register("logistics/orders", logistics.ShippingOrderViewSet, basename="shipping-order")
router.register("finance/terms", finance.PaymentTermsViewSet, basename="payment-terms")
router.register("finance/invoices", finance.InvoiceViewSet, basename="invoice")
router.register("finance/receivables", finance.ReceivableViewSet, basename="receivable")
router.register("finance/credit-notes", finance.CreditNoteViewSet, basename="credit-note")
router.register("finance/deposit-waivers", finance.DepositWaiverViewSet, basename="deposit-waiver")
router.register("finance/follow-ups", finance.FollowUpViewSet, basename="follow-up")
router.register("finance/payments", finance.PaymentViewSet, basename="payment")
router.register("feedback/surveys", feedback.SurveyViewSet, basename="survey")
router.register("feedback/complaints", feedback.ComplaintViewSet, basename="complaint")
router.register("feedback/followups", feedback.FollowUpViewSet, basename="followup")
router.register("supervision/checks", supervision.PeriodicCheckViewSet, basename="periodic-check")
router.register("supervision/losses", supervision.LossIncidentViewSet, basename="loss")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),  # in English, whatever the language
    # The split view serves its script as a file: no inline script under the CSP. Swagger UI
    # (React) injects <style> elements, so this one page, and only for styles, allows inline.
    path("docs/", csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
         name="api-docs"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("kpis/", supervision.KpiView.as_view(), name="api-kpis"),
    path("audit/", supervision.AuditView.as_view(), name="api-audit"),
    path("audit/violations/", supervision.ViolationView.as_view(), name="api-violations"),
    *router.urls,
    # Add new routes above this line: anything else under /api/v1/ answers a JSON 404.
    re_path(r"^[\s\S]*$", api_not_found),  # any path, a newline (%0A) in it too
]
