#!/usr/bin/python3
"""Turns the RESULT lines of snorky-bench runs (stdin) into a Markdown table.
Usage: summarize.py idle|fanout|ratios < output"""
import json
import sys


def rows(stream):
    for line in stream:
        if line.startswith("RESULT "):
            yield json.loads(line[len("RESULT "):])


def idle(results):
    print("| run | connections | server RSS with them | bytes per connection | RSS growth while idle | server CPU while idle | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['label']} | {r['connected']} | {r.get('rss_connected', 0) / 2**20:.1f} MiB "
              f"| {r.get('bytes_per_connection', 0):.0f} | {r.get('rss_hold_growth', 0)} B in {r.get('hold_seconds', 0):.0f} s "
              f"| {r.get('hold_cpu_seconds', 0):.2f} s | {r['errors']} |")


def fanout(results):
    print("| run | subscribers | channels | publishes/s | deliveries/s | delivered | server ns/delivery | x floor "
          "| (+softirq) x floor | server CPU | p50 ms | p90 ms | p99 ms | max ms | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        expected = r.get("expected_deliveries", 0)
        delivered = f"{100.0 * r['deliveries'] / expected:.1f}%" if expected else "-"
        ns = r.get("server_ns_per_delivery", 0)
        floor = f"{r['floor_multiple']:.2f}" if "floor_multiple" in r else "-"
        both = "-"
        if r.get("floor_softirq_ns") and "softirq_ns_per_delivery" in r:
            both = f"{(ns + r['softirq_ns_per_delivery']) / (r['floor_ns'] + r['floor_softirq_ns']):.2f}"
        cells = [r["label"], r["connections"], r["channels"], f"{r.get('publishes_per_second', 0):.0f}",
                 f"{r.get('deliveries_per_second', 0):.0f}", delivered, f"{ns:.0f}", floor, both,
                 f"{r.get('server_cpu_percent', 0):.0f}%"]
        cells += [f"{r.get(k, 0):.2f}" for k in ("latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_max_ms")]
        cells.append(r["errors"])
        print("| " + " | ".join(str(c) for c in cells) + " |")


def ratios(results):
    """Runs labelled group/variant: server CPU per delivery of each variant as
    a multiple of the group's first run (e.g. history kept vs off)."""
    print("| group | variant | server ns/delivery | x first variant | delivered |")
    print("| --- | --- | ---: | ---: | ---: |")
    base = {}
    for r in results:
        group, _, variant = r["label"].rpartition("/")
        ns = r.get("server_ns_per_delivery", 0)
        base.setdefault(group, ns)
        expected = r.get("expected_deliveries", 0)
        delivered = f"{100.0 * r['deliveries'] / expected:.1f}%" if expected else "-"
        multiple = f"{ns / base[group]:.2f}" if base[group] else "-"
        print(f"| {group} | {variant} | {ns:.0f} | {multiple} | {delivered} |")


if __name__ == "__main__":
    {"idle": idle, "fanout": fanout, "ratios": ratios}[sys.argv[1]](list(rows(sys.stdin)))
