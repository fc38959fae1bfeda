-- wrk script for bench/run-backend.sh: POST a PubSub publish to the backend
-- API on keep-alive connections. wrk counts non-2xx answers itself.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Backend-Key"] = os.getenv("BACKEND_KEY") or "bench-key"
wrk.body = '{"service":"pubsub_backend","message":{"command":"publish",' ..
           '"params":{"channel":"bench-0","message":{"p":"xxxxxxxxxxxxxxxx"}}}}'
