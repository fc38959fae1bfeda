"""Django integration: models whose changes reach browsers as DataSync deltas.

::

    from snorky.backend.django import subscribable

    @subscribable
    class Task(models.Model):
        title = models.CharField(max_length=100)
        done = models.BooleanField(default=False)

Every ``save()`` and ``delete()`` of a ``Task`` becomes a delta
(``{"type": "insert" | "delete", "model": "Task", "data": ...}`` or
``{"type": "update", "model": "Task", "newData": ..., "oldData": ...}``),
published to Snorky's DataSync backend **after the transaction commits**:
never for a change that was rolled back (a rolled-back savepoint included),
and all the deltas of one transaction in one ``publishDeltas`` call, in the
order the changes were made. In autocommit mode (no ``atomic`` block) each
change is its own transaction, so it is published at once, one call each.

Settings:

``SNORKY_BACKEND_URL``
    Snorky's backend listener, e.g. ``"http://127.0.0.1:5801/backend"``.
``SNORKY_API_KEY``
    its key (``X-Backend-Key``).
``SNORKY_DATASYNC_SERVICE``
    the DataSync backend service, default ``"datasync_backend"``.
``SNORKY_JSON_ENCODER``
    a :class:`json.JSONEncoder` subclass or its dotted path, default
    :class:`django.core.serializers.json.DjangoJSONEncoder` (dates, times,
    decimals and UUIDs as strings).
``SNORKY_TIMEOUT``
    seconds a call to Snorky may take (connecting, then waiting for the
    reply), default 2.
``SNORKY_PUBLISH_ERROR_HANDLER``
    optional callable (or its dotted path) ``handler(error, deltas)``,
    called when a publication failed.

A failed publication (Snorky down, slow, misconfigured) never fails the
request that made the change: the change is committed already. It is logged
on the ``snorky.django`` logger, counted in :data:`stats` and passed to the
error handler; browsers showing that data miss the change until they load
it again (a page that reconnects to Snorky does, as DataSync subscriptions
do not survive a reconnection).

Signals do not fire for ``QuerySet.update()``, ``bulk_create()`` and raw SQL:
use :func:`update_and_publish`, :func:`bulk_create_and_publish` or
:func:`publish_deltas` there.
"""

import gc
import json
import logging
import platform
import threading
import weakref
from typing import Any, Dict, Iterable, List, Optional, Tuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.utils.module_loading import import_string

from snorky.backend import SnorkyBackend, SnorkyHTTPTransport

__all__ = [
    "subscribable",
    "serialize",
    "model_name",
    "publish_deltas",
    "update_and_publish",
    "bulk_create_and_publish",
    "get_backend",
    "stats",
    "PublishStats",
]

logger = logging.getLogger("snorky.django")

DEFAULT_DATASYNC_SERVICE = "datasync_backend"
DEFAULT_TIMEOUT = 2.0

# Where pre_save / pre_delete leave the row as the database had it.
_OLD_DATA = "_snorky_old_data"
_MODEL_ATTRIBUTE = "_snorky_model_name"


# -- settings and the backend connection -------------------------------------


def _setting(name: str, default: Any = None) -> Any:
    return getattr(settings, name, default)


def _encoder() -> type:
    encoder = _setting("SNORKY_JSON_ENCODER") or DjangoJSONEncoder
    if isinstance(encoder, str):
        encoder = import_string(encoder)
    if not (isinstance(encoder, type) and issubclass(encoder, json.JSONEncoder)):
        raise ImproperlyConfigured("SNORKY_JSON_ENCODER must be a json.JSONEncoder subclass or its dotted path")
    return encoder


class _Codec:
    """The ``json=`` module SnorkyBackend uses, with the configured encoder."""

    def __init__(self, encoder: type) -> None:
        self.encoder = encoder

    def dumps(self, obj: Any) -> str:
        return json.dumps(obj, cls=self.encoder)

    def loads(self, s: str) -> Any:
        return json.loads(s)


_thread = threading.local()


def get_backend() -> SnorkyBackend:
    """A :class:`SnorkyBackend` for the settings above, one per thread (a
    transport serializes its calls; Django serves requests on several)."""
    url = _setting("SNORKY_BACKEND_URL")
    key = _setting("SNORKY_API_KEY")
    if not url:
        raise ImproperlyConfigured("SNORKY_BACKEND_URL is not set (e.g. \"http://127.0.0.1:5801/backend\")")
    if key is None:
        raise ImproperlyConfigured("SNORKY_API_KEY is not set (the key of Snorky's backend listener)")
    timeout = float(_setting("SNORKY_TIMEOUT", DEFAULT_TIMEOUT))
    encoder = _encoder()
    config = (url, key, timeout, encoder)
    cached = getattr(_thread, "backend", None)
    if cached is None or cached[0] != config:  # settings changed (tests override them)
        if cached is not None:
            cached[1].transport.close()
        transport = SnorkyHTTPTransport(url, key=key, timeout=timeout, connect_timeout=timeout)
        cached = (config, SnorkyBackend(transport, json=_Codec(encoder)))
        _thread.backend = cached
    return cached[1]


def datasync_service() -> str:
    return _setting("SNORKY_DATASYNC_SERVICE") or DEFAULT_DATASYNC_SERVICE


# -- what failed -------------------------------------------------------------


class PublishStats:
    """Counters of this process's publications (read them in a health view or
    a metrics exporter)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls = 0  # publishDeltas calls that succeeded
            self.deltas = 0  # deltas they carried
            self.failures = 0  # calls that failed
            self.lost_deltas = 0  # deltas those carried
            self.last_error: Optional[str] = None

    def _succeeded(self, count: int) -> None:
        with self._lock:
            self.calls += 1
            self.deltas += count

    def _failed(self, count: int, error: BaseException) -> None:
        with self._lock:
            self.failures += 1
            self.lost_deltas += count
            self.last_error = "%s: %s" % (type(error).__name__, error)


stats = PublishStats()


def _send(deltas: List[Dict[str, Any]]) -> None:
    """One publishDeltas call. Runs after a commit: it must never raise, or the
    request that committed would fail although its change is made."""
    try:
        get_backend().call(datasync_service(), "publishDeltas", deltas=deltas)
    except Exception as error:  # noqa: BLE001 - whatever it is, the change stays committed
        stats._failed(len(deltas), error)
        logger.error("could not publish %d delta(s) to Snorky; browsers miss these changes: %s", len(deltas), error)
        handler = _setting("SNORKY_PUBLISH_ERROR_HANDLER")
        if handler:
            try:
                (import_string(handler) if isinstance(handler, str) else handler)(error, deltas)
            except Exception:  # noqa: BLE001
                logger.exception("SNORKY_PUBLISH_ERROR_HANDLER failed")
    else:
        stats._succeeded(len(deltas))


# -- collecting the deltas of a transaction ----------------------------------


class _Marker:
    """An on-commit callback standing for some queued deltas.

    Django drops the on-commit callbacks of a rolled-back savepoint (and all
    of them on a rollback). A dropped marker is referenced by nothing, so its
    weak reference dies: when the first surviving marker runs after the
    commit, the live references are exactly the deltas to publish, in order,
    in one call, without reading Django's private callback list."""

    __slots__ = ("using", "__weakref__")

    def __init__(self, using: str) -> None:
        self.using = using

    def __call__(self) -> None:
        _flush(self.using)


def _pending(using: str) -> List[Tuple["weakref.ref[_Marker]", List[Dict[str, Any]]]]:
    # Per thread and database, as Django's connections are.
    queues = getattr(_thread, "pending", None)
    if queues is None:
        queues = _thread.pending = {}
    return queues.setdefault(using, [])


def _flush(using: str) -> None:
    if platform.python_implementation() != "CPython":
        gc.collect()  # elsewhere dropped markers die only when collected
    queue = _pending(using)
    deltas = [delta for ref, batch in queue if ref() is not None for delta in batch]
    queue.clear()
    if deltas:
        _send(deltas)


def _queue(deltas: List[Dict[str, Any]], using: str) -> None:
    if not deltas:
        return
    queue = _pending(using)
    queue[:] = [entry for entry in queue if entry[0]() is not None]  # forget rolled-back ones
    marker = _Marker(using)
    queue.append((weakref.ref(marker), deltas))
    # In autocommit mode this runs the marker, so publishes, at once.
    transaction.on_commit(marker, using=using)


# -- model data --------------------------------------------------------------


def model_name(model: Any) -> str:
    """The model name deltas of ``model`` (a class or an instance) carry."""
    cls = model if isinstance(model, type) else type(model)
    return getattr(cls, _MODEL_ATTRIBUTE, None) or cls.__name__


def _normalize(data: Any, what: str) -> Any:
    """Plain JSON values, fixed now: the instance may change again before the
    commit, and the delta must say what this save wrote."""
    try:
        return json.loads(json.dumps(data, cls=_encoder()))
    except (TypeError, ValueError) as error:
        raise TypeError(
            "Snorky cannot send %s as JSON (%s): define jsonify() or set SNORKY_JSON_ENCODER" % (what, error)
        ) from error


def serialize(instance: Any) -> Any:
    """The data a delta carries for ``instance``: ``instance.jsonify()`` when
    the model defines it, else every concrete field by name (a foreign key as
    the related row's id, as REST framework shows it), as JSON values."""
    jsonify = getattr(instance, "jsonify", None)
    if callable(jsonify):
        data = jsonify()
    else:
        data = {field.name: field.value_from_object(instance) for field in instance._meta.concrete_fields}
    return _normalize(data, "a %s" % type(instance).__name__)


def _db_data(model: type, pk: Any, using: str) -> Optional[Any]:
    """The row as the database has it, serialized; None when there is none.
    Inside a transaction the row is locked (where the database can) so that
    no other writer changes it between this read and our write."""
    rows = model._base_manager.using(using).filter(pk=pk)
    connection = connections[using]
    if connection.in_atomic_block and connection.features.has_select_for_update:
        rows = rows.select_for_update()
    row = rows.first()
    return None if row is None else serialize(row)


def _saved_data(instance: Any, using: str) -> Any:
    # Read back: the database may store something else than the instance
    # holds (Decimal("3") as 3.00, an F() expression, a default, a trigger),
    # and every delta must carry rows in the one form later deltas compare
    # them with.
    data = _db_data(type(instance), instance.pk, using)
    return data if data is not None else serialize(instance)


# -- signal handlers ---------------------------------------------------------


def _pre_save(sender: type, instance: Any, raw: bool = False, using: str = "default", **kwargs: Any) -> None:
    instance.__dict__.pop(_OLD_DATA, None)
    if raw:  # loaddata: fixtures are not news
        return
    new_with_default_pk = instance._state.adding and instance._meta.pk.has_default()
    if instance.pk is not None and not new_with_default_pk:
        instance.__dict__[_OLD_DATA] = _db_data(sender, instance.pk, using)


def _post_save(sender: type, instance: Any, created: bool, raw: bool = False, using: str = "default", **kwargs: Any) -> None:
    old = instance.__dict__.pop(_OLD_DATA, None)
    if raw:
        return
    new = _saved_data(instance, using)
    name = model_name(sender)
    if created or old is None:
        delta = {"type": "insert", "model": name, "data": new}
    elif old == new:
        return  # nothing a browser sees changed
    else:
        delta = {"type": "update", "model": name, "newData": new, "oldData": old}
    _queue([delta], using)


def _pre_delete(sender: type, instance: Any, using: str = "default", **kwargs: Any) -> None:
    old = _db_data(sender, instance.pk, using)
    instance.__dict__[_OLD_DATA] = old if old is not None else serialize(instance)


def _post_delete(sender: type, instance: Any, using: str = "default", **kwargs: Any) -> None:
    data = instance.__dict__.pop(_OLD_DATA, None)
    if data is None:
        data = serialize(instance)
    _queue([{"type": "delete", "model": model_name(sender), "data": data}], using)


def subscribable(cls: Optional[type] = None, *, model: Optional[str] = None) -> Any:
    """Class decorator: publish the model's inserts, updates and deletes.

    ``model`` is the model name in the deltas (the one Snorky's dealers are
    configured with); default: the class name. ``@subscribable`` and
    ``@subscribable(model="task")`` both work. Signals are per class: a
    subclass or proxy model needs its own decorator."""

    def decorate(target: type) -> type:
        meta = getattr(target, "_meta", None)
        if meta is None or not hasattr(meta, "concrete_fields"):
            raise TypeError("@subscribable decorates Django model classes, not %r" % (target,))
        if meta.abstract:
            raise TypeError("@subscribable needs a concrete model: %s is abstract" % target.__name__)
        if model is not None:
            if not isinstance(model, str) or not model:
                raise TypeError("subscribable(model=...) must be a non-empty string")
            setattr(target, _MODEL_ATTRIBUTE, model)
        uid = "snorky:%s.%s" % (target.__module__, target.__qualname__)
        pre_save.connect(_pre_save, sender=target, weak=False, dispatch_uid=uid)
        post_save.connect(_post_save, sender=target, weak=False, dispatch_uid=uid)
        pre_delete.connect(_pre_delete, sender=target, weak=False, dispatch_uid=uid)
        post_delete.connect(_post_delete, sender=target, weak=False, dispatch_uid=uid)
        return target

    return decorate(cls) if cls is not None else decorate


# -- what signals do not see -------------------------------------------------


def publish_deltas(deltas: Iterable[Dict[str, Any]], using: Optional[str] = None) -> None:
    """Publishes ``deltas`` (protocol shapes, any values the JSON encoder
    knows) with the model deltas of the current transaction on database
    ``using`` (default: the default database): after it commits, in the same
    call, in order; at once when not in a transaction."""
    batch = [_normalize(delta, "a delta") for delta in deltas]
    for delta in batch:
        if not isinstance(delta, dict) or not isinstance(delta.get("model"), str):
            raise ValueError("a delta is an object with a string \"model\": %r" % (delta,))
        if delta.get("type") not in ("insert", "update", "delete"):
            raise ValueError("a delta's type is insert, update or delete: %r" % (delta,))
    _queue(batch, using or DEFAULT_DB_ALIAS)


def update_and_publish(queryset: Any, **values: Any) -> int:
    """``queryset.update(**values)`` that publishes an update delta for each
    row it changed (signals never see ``QuerySet.update``). The rows are read
    (and locked where the database can) before and after, in one
    transaction; only the rows read are updated. Returns the number of rows
    updated."""
    model = queryset.model
    using = queryset.db
    name = model_name(model)
    with transaction.atomic(using=using):
        rows = queryset
        if connections[using].features.has_select_for_update:
            rows = rows.select_for_update()
        before = {row.pk: serialize(row) for row in rows}
        if not before:
            return 0
        count = model._base_manager.using(using).filter(pk__in=list(before)).update(**values)
        deltas = []
        for row in model._base_manager.using(using).filter(pk__in=list(before)).order_by("pk"):
            new = serialize(row)
            if new != before[row.pk]:
                deltas.append({"type": "update", "model": name, "newData": new, "oldData": before[row.pk]})
        _queue(deltas, using)
    return count


def bulk_create_and_publish(model: type, objs: Iterable[Any], **kwargs: Any) -> List[Any]:
    """``model.objects.bulk_create(objs, **kwargs)`` that publishes an insert
    delta for each row. Each object needs its primary key after the insert:
    PostgreSQL gives it back; elsewhere (SQLite and MySQL with Django 3.2)
    set the keys before (e.g. UUID primary keys), or this raises ValueError
    before inserting anything."""
    objs = list(objs)
    using = router.db_for_write(model)
    if not connections[using].features.can_return_rows_from_bulk_insert:
        missing = [obj for obj in objs if obj.pk is None]
        if missing:
            raise ValueError(
                "bulk_create_and_publish: %d object(s) have no primary key and database %r cannot return them; "
                "set the keys first or save() each object" % (len(missing), using)
            )
    with transaction.atomic(using=using):
        created = model._base_manager.using(using).bulk_create(objs, **kwargs)
        name = model_name(model)
        _queue([{"type": "insert", "model": name, "data": serialize(obj)} for obj in created], using)
    return created
