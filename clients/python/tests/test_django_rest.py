"""snorky.backend.django.rest_framework: the X-Snorky header convention on
REST framework views, against a real snorky: the token is authorized before
the query, acquired by a WebSocket subscriber, and filtered views receive
rows entering and leaving them as inserts and deletes."""

import unittest

import django_support as support  # configures Django first
from django.test import TransactionTestCase, override_settings
from rest_framework.test import APIClient

from djangoapp import views
from djangoapp.models import Task, Team
from snorky.backend import SnorkyError
from snorky.backend.django.rest_framework import stats

server = None


def setUpModule():
    global server
    support.setup_database()
    server = support.start_snorky()


def tearDownModule():
    server.stop()


class RestTestCase(TransactionTestCase):
    def setUp(self):
        self.settings = override_settings(SNORKY_BACKEND_URL=server.backend_url)
        self.settings.enable()
        self.addCleanup(self.settings.disable)
        self.client = APIClient()
        self.team = Team.objects.create(name="one")
        self.other = Team.objects.create(name="two")

    def subscribe(self, url, **headers):
        """GET with X-Snorky: Subscribe; the response and a subscriber holding its token."""
        response = self.client.get(url, HTTP_X_SNORKY="Subscribe", **headers)
        self.assertEqual(response.status_code, 200, response.content)
        token = response["X-Subscription-Token"]
        self.assertRegex(token, r"^[a-z0-9]{32}$")
        subscriber = support.Subscriber(server, token)
        self.addCleanup(subscriber.close)
        return response, subscriber


class HeaderConvention(RestTestCase):
    def test_without_the_header_the_view_is_rest_frameworks_own(self):
        Task.objects.create(title="a", team=self.team)
        before = stats.subscriptions
        response = self.client.get("/tasks/?team=%d" % self.team.pk)
        self.assertEqual(response.status_code, 200)
        self.assertEqual([t["title"] for t in response.json()], ["a"])
        self.assertNotIn("X-Subscription-Token", response)
        self.assertIn("X-Snorky", response["Vary"])  # a cache keeps the two answers apart
        self.assertEqual(stats.subscriptions, before)

    def test_the_header_gives_a_token_whose_subscription_receives_the_changes(self):
        Task.objects.create(title="before", team=self.team)
        response, subscriber = self.subscribe("/all-tasks/")
        self.assertEqual([t["title"] for t in response.json()], ["before"])
        self.assertIn("no-store", response["Cache-Control"])  # a token is acquired once
        self.assertNotIn("Access-Control-Expose-Headers", response)  # same-origin request
        created = self.client.post("/tasks/", {"title": "through the API", "team": self.team.pk}, format="json")
        self.assertEqual(created.status_code, 201)
        delta = subscriber.delta()
        self.assertEqual((delta["type"], delta["data"]["title"]), ("insert", "through the API"))

    def test_a_cross_origin_request_gets_the_token_header_exposed(self):
        response, _ = self.subscribe("/all-tasks/", HTTP_ORIGIN="http://pages.example")
        self.assertIn("X-Subscription-Token", [h.strip() for h in response["Access-Control-Expose-Headers"].split(",")])

    def test_the_subscription_is_authorized_before_the_query(self):
        order = []

        class Recorded(views.TaskList):
            def authorize_subscription(self):
                order.append("authorize")
                token = super().authorize_subscription()
                # A change committed between the authorization and the query:
                # the body shows it and the subscription receives it as well,
                # so a browser applying deltas idempotently misses nothing.
                Task.objects.create(title="in between", team=Team.objects.get(name="one"))
                return token

            def get_queryset(self):
                order.append("query")
                return super().get_queryset()

        from rest_framework.test import APIRequestFactory
        request = APIRequestFactory().get("/tasks/?team=%d" % self.team.pk, HTTP_X_SNORKY="Subscribe")
        response = Recorded.as_view()(request)
        response.render()
        self.assertEqual(order[:2], ["authorize", "query"])
        self.assertEqual([t["title"] for t in response.data], ["in between"])
        subscriber = support.Subscriber(server, response["X-Subscription-Token"])
        self.addCleanup(subscriber.close)
        self.assertEqual(subscriber.delta()["data"]["title"], "in between")

    def test_retrieve_with_the_header(self):
        task = Task.objects.create(title="one task", team=self.team)
        response, subscriber = self.subscribe("/tasks/%d/" % task.pk)
        self.assertEqual(response.json()["title"], "one task")
        self.client.patch("/tasks/%d/" % task.pk, {"title": "renamed"}, format="json")
        delta = subscriber.delta()
        self.assertEqual((delta["type"], delta["oldData"]["title"], delta["newData"]["title"]),
                         ("update", "one task", "renamed"))

    def test_a_dealer_snorky_does_not_know_is_an_error_not_a_silent_miss(self):
        with self.assertRaisesRegex(SnorkyError, "No such dealer"):
            self.client.get("/wrong/", HTTP_X_SNORKY="Subscribe")


class FilteredViews(RestTestCase):
    def test_rows_entering_and_leaving_a_filter_arrive_as_insert_and_delete(self):
        task = Task.objects.create(title="t", team=self.team)
        elsewhere = Task.objects.create(title="other team", team=self.other)
        response, open_view = self.subscribe("/tasks/?team=%d&done=false" % self.team.pk)
        self.assertEqual([t["title"] for t in response.json()], ["t"])
        _, done_view = self.subscribe("/tasks/?team=%d&done=true" % self.team.pk)
        _, team_view = self.subscribe("/tasks/?team=%d" % self.team.pk)

        def patch(pk, **changes):
            self.assertEqual(self.client.patch("/tasks/%d/" % pk, changes, format="json").status_code, 200)

        patch(task.pk, done=True)  # leaves the open view, enters the done view
        leave = open_view.delta()
        self.assertEqual((leave["type"], leave["data"]["id"], leave["data"]["done"]), ("delete", task.pk, False))
        enter = done_view.delta()
        self.assertEqual((enter["type"], enter["data"]["id"], enter["data"]["done"]), ("insert", task.pk, True))
        update = team_view.delta()
        self.assertEqual((update["type"], update["oldData"]["done"], update["newData"]["done"]), ("update", False, True))

        patch(elsewhere.pk, team=self.team.pk)  # moves into team one, open
        self.assertEqual((open_view.delta()["type"]), "insert")
        self.assertEqual((team_view.delta()["type"]), "insert")

        self.assertEqual(self.client.delete("/tasks/%d/" % task.pk).status_code, 204)
        self.assertEqual(done_view.delta(), {"type": "delete", "model": "task", "data": enter["data"]})
        self.assertEqual(team_view.delta()["type"], "delete")
        # The open view never held the deleted task: the next delta it gets is the sentinel.
        sentinel = support.sentinel("end", team=self.team.pk, done=False)
        support.publish_directly(sentinel)
        self.assertEqual(open_view.delta(), sentinel)


class SnorkyUnavailable(RestTestCase):
    def test_snorky_down_the_data_comes_without_a_token(self):
        Task.objects.create(title="still listed", team=self.team)
        before = stats.subscription_failures
        url = "http://127.0.0.1:%d/backend" % support.closed_port()
        with override_settings(SNORKY_BACKEND_URL=url):
            with self.assertLogs("snorky.django", "ERROR") as logs:
                response = self.client.get("/tasks/?team=%d" % self.team.pk, HTTP_X_SNORKY="Subscribe")
                created = self.client.post("/tasks/", {"title": "created anyway", "team": self.team.pk}, format="json")
        self.assertEqual(response.status_code, 200)
        self.assertEqual([t["title"] for t in response.json()], ["still listed"])
        self.assertNotIn("X-Subscription-Token", response)
        self.assertEqual(stats.subscription_failures, before + 1)
        self.assertIn("could not authorize", logs.output[0])
        self.assertEqual(created.status_code, 201)
        self.assertTrue(Task.objects.filter(title="created anyway").exists())


if __name__ == "__main__":
    unittest.main()
