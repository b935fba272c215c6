from rest_framework.routers import SimpleRouter

from benchmarks.bare.views import BenchOrderViewSet

router = SimpleRouter()
router.register("orders", BenchOrderViewSet, basename="order")
urlpatterns = router.urls
