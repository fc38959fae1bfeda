"""snorky.backend.django: model changes reach a real snorky's DataSync
subscribers after commit, one publishDeltas call per transaction, never after
a rollback; a Snorky that is down or hangs never fails the change."""

import datetime
import decimal
import time
import unittest
import uuid

import django_support as support  # configures Django first
from django.db import transaction
from django.db.models import F
from django.test import TransactionTestCase, override_settings

from djangoapp.models import Note, Task, Team, Unsendable
from snorky.backend.django import bulk_create_and_publish, publish_deltas, stats, update_and_publish

server = None


def setUpModule():
    global server
    support.setup_database()
    server = support.start_snorky()


def tearDownModule():
    server.stop()


class DjangoTestCase(TransactionTestCase):
    """Commits are real here (TransactionTestCase): on_commit callbacks run."""

    def setUp(self):
        self.settings = override_settings(SNORKY_BACKEND_URL=server.backend_url)
        self.settings.enable()
        self.addCleanup(self.settings.disable)
        stats.reset()
        self.team = Team.objects.create(name="one")
        self.other = Team.objects.create(name="two")

    def subscribe(self, dealer, query=None):
        subscriber = support.Subscriber.authorize(server, dealer, query)
        self.addCleanup(subscriber.close)
        return subscriber

    def assertNothingBefore(self, subscriber, text, model="task"):
        """Nothing came before a sentinel published now (one every view here matches)."""
        sentinel = support.sentinel(text, model, team=self.team.pk, done=False)
        support.publish_directly(sentinel)
        self.assertEqual(subscriber.delta(), sentinel)


class DeltaShapes(DjangoTestCase):
    def test_insert_update_delete_in_autocommit_with_the_default_serialization(self):
        watcher = self.subscribe("tasks", ["==", "team", self.team.pk])
        ref = uuid.UUID("12345678-1234-5678-1234-567812345678")
        task = Task.objects.create(title="Buy milk", team=self.team, due=datetime.date(2024, 5, 1),
                                   estimate=decimal.Decimal("12.50"), ref=ref)
        inserted = watcher.delta()
        row = {"id": task.pk, "title": "Buy milk", "team": self.team.pk, "done": False, "due": "2024-05-01",
               "estimate": "12.50", "ref": str(ref), "changed": inserted["data"]["changed"]}
        self.assertEqual(inserted, {"type": "insert", "model": "task", "data": row})
        # An aware datetime, as DjangoJSONEncoder writes it.
        self.assertRegex(row["changed"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?(Z|[+-]\d\d:\d\d)$")

        task.title = "Buy oat milk"
        task.estimate = decimal.Decimal("3")
        task.save()
        updated = watcher.delta()
        self.assertEqual(updated["type"], "update")
        self.assertEqual(updated["oldData"], row)
        # The row as stored: the field's two decimal places, whatever the instance held.
        self.assertEqual(dict(updated["newData"], changed=None),
                         dict(row, title="Buy oat milk", estimate="3.00", changed=None))

        new_row = updated["newData"]
        task.delete()
        self.assertEqual(watcher.delta(), {"type": "delete", "model": "task", "data": new_row})
        self.assertEqual((stats.calls, stats.deltas, stats.failures), (3, 3, 0))

    def test_jsonify_and_the_class_name_as_model(self):
        watcher = self.subscribe("notes")
        note = Note.objects.create(text="hello")
        self.assertEqual(watcher.delta(), {"type": "insert", "model": "Note",
                                           "data": {"id": str(note.pk), "text": "hello", "hits": 0, "shout": "HELLO"}})
        note.text = "bye"
        note.save()
        self.assertEqual(watcher.delta(), {
            "type": "update", "model": "Note",
            "newData": {"id": str(note.pk), "text": "bye", "hits": 0, "shout": "BYE"},
            "oldData": {"id": str(note.pk), "text": "hello", "hits": 0, "shout": "HELLO"}})

    def test_old_data_is_the_row_in_the_database_not_the_instance_as_loaded(self):
        watcher = self.subscribe("all_tasks")
        task = Task.objects.create(title="a", team=self.team)
        watcher.delta()
        stale = Task.objects.get(pk=task.pk)
        task.title = "b"
        task.save()
        self.assertEqual(watcher.delta()["newData"]["title"], "b")
        stale.done = True  # still believes the title is "a"
        stale.save()
        delta = watcher.delta()
        self.assertEqual(delta["oldData"]["title"], "b")
        self.assertEqual((delta["newData"]["title"], delta["newData"]["done"]), ("a", True))

    def test_an_expression_is_published_as_the_value_it_wrote(self):
        watcher = self.subscribe("notes")
        note = Note.objects.create(text="n", hits=4)
        watcher.delta()
        note.hits = F("hits") + 1
        note.save()
        delta = watcher.delta()
        self.assertEqual((delta["oldData"]["hits"], delta["newData"]["hits"]), (4, 5))

    def test_a_save_that_changes_nothing_publishes_nothing(self):
        watcher = self.subscribe("notes")
        note = Note.objects.create(text="same")
        watcher.delta()
        note.save()
        self.assertNothingBefore(watcher, "after an unchanged save", "Note")

    def test_cascaded_deletes_are_published(self):
        watcher = self.subscribe("all_tasks")
        first = Task.objects.create(title="x", team=self.other)
        second = Task.objects.create(title="y", team=self.other)
        watcher.deltas(2)
        self.other.delete()
        deleted = watcher.deltas(2)
        self.assertEqual(sorted((d["type"], d["data"]["id"]) for d in deleted),
                         [("delete", first.pk), ("delete", second.pk)])

    def test_data_that_is_not_json_fails_the_save_with_a_clear_error(self):
        with self.assertRaisesRegex(TypeError, "Snorky cannot send a Unsendable as JSON.*jsonify"):
            Unsendable.objects.create(text="x")


class Transactions(DjangoTestCase):
    def test_a_transaction_is_published_after_commit_in_one_call_in_order(self):
        watcher = self.subscribe("tasks", ["==", "team", self.team.pk])
        with transaction.atomic():
            task = Task.objects.create(title="one", team=self.team)
            task.title = "two"
            task.save()
            task.title = "three"
            task.save()
            Task.objects.create(title="four", team=self.team)
            # Nothing published while the transaction is open.
            self.assertNothingBefore(watcher, "inside the transaction")
            calls_before_commit = support.backend_envelopes(server)
        self.assertEqual(support.backend_envelopes(server) - calls_before_commit, 1)
        deltas = watcher.deltas(4)
        self.assertEqual([d["type"] for d in deltas], ["insert", "update", "update", "insert"])
        self.assertEqual(deltas[0]["data"]["title"], "one")
        # Each update says what that save changed, though the instance changed on.
        self.assertEqual([(d["oldData"]["title"], d["newData"]["title"]) for d in deltas[1:3]],
                         [("one", "two"), ("two", "three")])
        self.assertEqual(deltas[3]["data"]["title"], "four")
        self.assertEqual((stats.calls, stats.deltas), (1, 4))

    def test_a_rolled_back_transaction_publishes_nothing(self):
        watcher = self.subscribe("all_tasks")
        kept = Task.objects.create(title="kept", team=self.team)
        watcher.delta()
        with self.assertRaises(ZeroDivisionError):
            with transaction.atomic():
                Task.objects.create(title="never", team=self.team)
                kept.title = "changed, then not"
                kept.save()
                Task.objects.get(pk=kept.pk).delete()
                1 / 0
        self.assertFalse(Task.objects.filter(title="never").exists())
        self.assertNothingBefore(watcher, "after the rollback")
        # The next transaction publishes only its own changes.
        with transaction.atomic():
            Task.objects.create(title="later", team=self.team)
        self.assertEqual(watcher.delta()["data"]["title"], "later")
        self.assertNothingBefore(watcher, "after the later transaction")

    def test_a_rolled_back_savepoint_drops_only_its_own_changes(self):
        watcher = self.subscribe("all_tasks")
        with transaction.atomic():
            Task.objects.create(title="outer before", team=self.team)
            try:
                with transaction.atomic():
                    Task.objects.create(title="inner, rolled back", team=self.team)
                    with transaction.atomic():
                        Task.objects.create(title="innermost, rolled back with it", team=self.team)
                    raise KeyError("roll back the savepoint")
            except KeyError:
                pass
            with transaction.atomic():
                Task.objects.create(title="inner, kept", team=self.team)
            Task.objects.create(title="outer after", team=self.team)
            calls_before_commit = support.backend_envelopes(server)
        self.assertEqual(support.backend_envelopes(server) - calls_before_commit, 1)
        self.assertEqual([d["data"]["title"] for d in watcher.deltas(3)],
                         ["outer before", "inner, kept", "outer after"])
        self.assertNothingBefore(watcher, "after the savepoint test")

    def test_a_savepoint_rolled_back_last_drops_its_changes(self):
        watcher = self.subscribe("all_tasks")
        with transaction.atomic():
            Task.objects.create(title="kept", team=self.team)
            try:
                with transaction.atomic():
                    Task.objects.create(title="rolled back, and nothing after it", team=self.team)
                    raise KeyError("roll back the savepoint")
            except KeyError:
                pass
        self.assertEqual(watcher.delta()["data"]["title"], "kept")
        self.assertNothingBefore(watcher, "after the last savepoint")

    def test_on_commit_callbacks_that_change_models_are_published_too(self):
        watcher = self.subscribe("all_tasks")
        with transaction.atomic():
            Task.objects.create(title="first", team=self.team)
            transaction.on_commit(lambda: Task.objects.create(title="from a callback", team=self.team))
        titles = [d["data"]["title"] for d in watcher.deltas(2)]
        self.assertEqual(titles, ["first", "from a callback"])


class BulkPaths(DjangoTestCase):
    def test_update_and_publish(self):
        watcher = self.subscribe("tasks", ["and", ["==", "team", self.team.pk], ["==", "done", False]])
        a = Task.objects.create(title="a", team=self.team)
        b = Task.objects.create(title="b", team=self.team)
        Task.objects.create(title="c", team=self.other)
        watcher.deltas(2)
        count = update_and_publish(Task.objects.filter(team=self.team), done=True)
        self.assertEqual(count, 2)
        # They left the "open" view: deletes of the rows as they were.
        deltas = watcher.deltas(2)
        self.assertEqual([(d["type"], d["data"]["id"], d["data"]["done"]) for d in deltas],
                         [("delete", a.pk, False), ("delete", b.pk, False)])
        self.assertEqual(update_and_publish(Task.objects.filter(title="nothing"), done=True), 0)

    def test_bulk_create_and_publish(self):
        watcher = self.subscribe("notes")
        notes = bulk_create_and_publish(Note, [Note(text="x"), Note(text="y")])
        self.assertEqual([(d["type"], d["data"]["id"]) for d in watcher.deltas(2)],
                         [("insert", str(notes[0].pk)), ("insert", str(notes[1].pk))])
        # SQLite cannot give back AutoField keys from a bulk insert (Django 3.2).
        with self.assertRaisesRegex(ValueError, "no primary key"):
            bulk_create_and_publish(Task, [Task(title="z", team=self.team)])
        self.assertFalse(Task.objects.filter(title="z").exists())

    def test_publish_deltas_joins_the_transaction(self):
        watcher = self.subscribe("all_tasks")
        with transaction.atomic():
            Task.objects.create(title="saved", team=self.team)
            publish_deltas([{"type": "insert", "model": "task",
                             "data": {"id": 999, "title": "by hand", "team": self.team.pk,
                                      "due": datetime.date(2030, 1, 2)}}])
            calls_before_commit = support.backend_envelopes(server)
        self.assertEqual(support.backend_envelopes(server) - calls_before_commit, 1)
        deltas = watcher.deltas(2)
        self.assertEqual([d["data"]["title"] for d in deltas], ["saved", "by hand"])
        self.assertEqual(deltas[1]["data"]["due"], "2030-01-02")
        with self.assertRaisesRegex(ValueError, "insert, update or delete"):
            publish_deltas([{"type": "upsert", "model": "task", "data": {}}])


class SnorkyUnavailable(DjangoTestCase):
    def test_snorky_down_the_change_is_made_the_failure_logged_counted_and_handed_to_the_hook(self):
        failures = []
        url = "http://127.0.0.1:%d/backend" % support.closed_port()
        with override_settings(SNORKY_BACKEND_URL=url,
                               SNORKY_PUBLISH_ERROR_HANDLER=lambda error, deltas: failures.append((error, deltas))):
            with self.assertLogs("snorky.django", "ERROR") as logs:
                with transaction.atomic():
                    Task.objects.create(title="made anyway", team=self.team)
                    Task.objects.create(title="this too", team=self.team)
        self.assertEqual(Task.objects.filter(team=self.team).count(), 2)
        self.assertEqual((stats.failures, stats.lost_deltas, stats.calls), (1, 2, 0))
        self.assertIn("cannot connect", stats.last_error)
        self.assertIn("could not publish 2 delta(s)", logs.output[0])
        self.assertEqual(len(failures), 1)
        self.assertIsInstance(failures[0][0], RuntimeError)
        self.assertEqual([d["data"]["title"] for d in failures[0][1]], ["made anyway", "this too"])
        # Snorky is back: the next change is published.
        watcher = self.subscribe("all_tasks")
        Task.objects.create(title="after", team=self.team)
        self.assertEqual(watcher.delta()["data"]["title"], "after")

    def test_a_snorky_that_hangs_costs_at_most_the_timeout(self):
        silent = support.SilentServer()
        self.addCleanup(silent.close)
        with override_settings(SNORKY_BACKEND_URL="http://127.0.0.1:%d/backend" % silent.port, SNORKY_TIMEOUT=0.5):
            with self.assertLogs("snorky.django", "ERROR"):
                started = time.monotonic()
                Task.objects.create(title="slow snorky", team=self.team)
                elapsed = time.monotonic() - started
        self.assertTrue(Task.objects.filter(title="slow snorky").exists())
        self.assertEqual(stats.failures, 1)
        self.assertIn("no reply", stats.last_error)
        self.assertGreaterEqual(elapsed, 0.5)
        self.assertLess(elapsed, 3)

    def test_a_failing_hook_is_logged_and_the_change_stays(self):
        def hook(error, deltas):
            raise ValueError("the hook itself fails")

        with override_settings(SNORKY_BACKEND_URL="http://127.0.0.1:%d/backend" % support.closed_port(),
                               SNORKY_PUBLISH_ERROR_HANDLER=hook):
            with self.assertLogs("snorky.django", "ERROR") as logs:
                Task.objects.create(title="still made", team=self.team)
        self.assertTrue(Task.objects.filter(title="still made").exists())
        self.assertTrue(any("SNORKY_PUBLISH_ERROR_HANDLER failed" in line for line in logs.output))

    def test_a_missing_setting_is_a_failure_with_its_name(self):
        with override_settings(SNORKY_BACKEND_URL=None):
            with self.assertLogs("snorky.django", "ERROR"):
                Task.objects.create(title="no url", team=self.team)
        self.assertIn("SNORKY_BACKEND_URL is not set", stats.last_error)


if __name__ == "__main__":
    unittest.main()
