"""Django REST framework views that hand out DataSync subscriptions.

A request with the header ``X-Snorky: Subscribe`` asks for the data *and* a
subscription to its changes. The view asks Snorky to authorize a
subscription to its dealer and query **before** it queries the database, and
returns the token in the response header ``X-Subscription-Token`` beside the
usual body. Every change committed after the authorization reaches the
subscription (buffered until the browser acquires the token), every change
committed before it is in the body: nothing falls in between. ::

    import snorky.backend.django.rest_framework as snorky

    class TaskList(snorky.ListSubscribeCreateAPIView):
        queryset = Task.objects.all()
        serializer_class = TaskSerializer
        dealer = "tasks"

        def get_dealer_query(self):
            return ["==", "team", int(self.request.query_params["team"])]

Without the header the views behave exactly as REST framework's own.

When Snorky cannot be reached the response carries the data without the
header (the page is then not live; it may ask again later), the failure is
logged on ``snorky.django`` and counted in ``stats.subscription_failures``.
A Snorky *error* ("No such dealer", "Invalid query") is a mistake in the
view or in Snorky's configuration and raises :class:`SnorkyError`.
"""

import logging
import threading
from typing import Any, Callable, Dict, List, Optional

from django.core.exceptions import ImproperlyConfigured
from django.utils.cache import patch_cache_control, patch_vary_headers
from rest_framework import generics, mixins

from snorky.backend import SnorkyError
from snorky.backend.django import datasync_service, get_backend

__all__ = [
    "SUBSCRIBE_HEADER",
    "TOKEN_HEADER",
    "SubscriptionMixin",
    "SubscribeModelMixin",
    "ListSubscribeModelMixin",
    "ListSubscribeAPIView",
    "ListSubscribeCreateAPIView",
    "stats",
]

logger = logging.getLogger("snorky.django")

SUBSCRIBE_HEADER = "X-Snorky"
SUBSCRIBE_VALUE = "subscribe"
TOKEN_HEADER = "X-Subscription-Token"


class SubscriptionStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.subscriptions = 0  # tokens handed out
        self.subscription_failures = 0  # Snorky unreachable: data sent without a token
        self.last_error: Optional[str] = None

    def _count(self, error: Optional[BaseException] = None) -> None:
        with self._lock:
            if error is None:
                self.subscriptions += 1
            else:
                self.subscription_failures += 1
                self.last_error = "%s: %s" % (type(error).__name__, error)


stats = SubscriptionStats()


class SubscriptionMixin:
    """What every subscribing view shares: which subscription to authorize,
    and the header convention. Use :class:`ListSubscribeModelMixin` or
    :class:`SubscribeModelMixin`, or call :meth:`subscribed` from your own
    handler."""

    #: The dealer subscriptions are bound to, unless get_dealer() says otherwise.
    dealer: Optional[str] = None
    #: The query sent to the dealer, unless get_dealer_query() says otherwise.
    dealer_query: Any = None

    def get_dealer(self) -> str:
        if self.dealer is None:
            raise ImproperlyConfigured(
                "%s needs a dealer: set the dealer attribute or override get_dealer()" % type(self).__name__
            )
        return self.dealer

    def get_dealer_query(self) -> Any:
        return self.dealer_query

    def get_subscription_items(self) -> List[Dict[str, Any]]:
        """The items of the subscription: ``[{"dealer", "query"}]``; override
        to subscribe to several dealers at once."""
        return [{"dealer": self.get_dealer(), "query": self.get_dealer_query()}]

    def wants_subscription(self) -> bool:
        value = self.request.headers.get(SUBSCRIBE_HEADER, "")  # type: ignore[attr-defined]
        return value.strip().lower() == SUBSCRIBE_VALUE

    def authorize_subscription(self) -> Optional[str]:
        """Asks Snorky for a token; None when Snorky cannot be reached."""
        items = self.get_subscription_items()
        try:
            token = get_backend().call(datasync_service(), "authorizeSubscription", items=items)
        except SnorkyError:
            raise
        except RuntimeError as error:  # the transport's failures: down, timeout, bad reply
            stats._count(error)
            logger.error("could not authorize a Snorky subscription; the data is sent without one: %s", error)
            return None
        if not isinstance(token, str):
            raise SnorkyError("authorizeSubscription answered %r, not a token" % (token,))
        stats._count()
        return token

    def subscribed(self, handler: Callable[[], Any]) -> Any:
        """Runs ``handler`` (which queries and returns the response) after
        authorizing the subscription the request asked for, and adds its
        token to a successful response."""
        token = self.authorize_subscription() if self.wants_subscription() else None  # before the query
        response = handler()
        # A cache must neither answer a request for a subscription with a
        # response without one, nor replay a token (each is acquired once).
        patch_vary_headers(response, (SUBSCRIBE_HEADER,))
        if token is not None and 200 <= response.status_code < 300:
            response[TOKEN_HEADER] = token
            patch_cache_control(response, private=True, no_store=True)
            if "Origin" in self.request.headers:  # type: ignore[attr-defined]
                # Cross-origin scripts only see the response headers listed here.
                exposed = [h.strip() for h in response.get("Access-Control-Expose-Headers", "").split(",") if h.strip()]
                if TOKEN_HEADER.lower() not in (h.lower() for h in exposed):
                    exposed.append(TOKEN_HEADER)
                response["Access-Control-Expose-Headers"] = ", ".join(exposed)
        return response


class ListSubscribeModelMixin(SubscriptionMixin, mixins.ListModelMixin):
    """REST framework's ``ListModelMixin`` that understands ``X-Snorky``."""

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.subscribed(lambda: mixins.ListModelMixin.list(self, request, *args, **kwargs))


class SubscribeModelMixin(SubscriptionMixin, mixins.RetrieveModelMixin):
    """REST framework's ``RetrieveModelMixin`` that understands ``X-Snorky``
    (one object: e.g. a "by id" dealer with the object's id as query)."""

    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.subscribed(lambda: mixins.RetrieveModelMixin.retrieve(self, request, *args, **kwargs))


class ListSubscribeAPIView(ListSubscribeModelMixin, generics.GenericAPIView):
    """``ListAPIView`` with subscriptions."""

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.list(request, *args, **kwargs)


class ListSubscribeCreateAPIView(ListSubscribeModelMixin, mixins.CreateModelMixin, generics.GenericAPIView):
    """``ListCreateAPIView`` with subscriptions on its list."""

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.list(request, *args, **kwargs)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.create(request, *args, **kwargs)
