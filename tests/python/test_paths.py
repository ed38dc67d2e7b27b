"""POST /api/paths, /api/paths/actors and /api/trends against an independent Python computation.

Seeded random browsing histories (ties on the same second included) go through OTLP/HTTP
JSON into a fresh `exos serve`, on DuckDB or on ClickHouse (`EXOS_TEST_STORE`). Python
then computes every path question from the spans it sent, with the definitions of
docs/API.md: events ordered by (time, span id, label), labels cleaned by the rules,
consecutive repeats collapsed, paths anchored at the first start and/or end event and cut
after `depth` steps. The server's nodes, links and drilled actors must equal Python's.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict

import pytest
import requests

SEED = 20261205
ACTORS = 240
START_NS = 1_796_119_200_000_000_000  # 2026-12-01 10:00:00 UTC
SECOND = 1_000_000_000
PAGES = ["/home", "/search", "/product/{n}", "/cart", "/checkout", "/help/{n}"]
RULES = [{"pattern": "/[0-9]+$", "replacement": "/:id"}]
RANGE = {"from_ns": START_NS, "to_ns": START_NS + 3600 * SECOND}


def text_attributes(attributes: dict) -> list[dict]:
    return [{"key": key, "value": {"stringValue": value}} for key, value in attributes.items()]


def histories() -> list[dict]:
    """One span per event: user, page, second (often shared) and a unique span id."""
    rng = random.Random(SEED)
    events = []
    for actor in range(ACTORS):
        for _ in range(rng.randint(1, 9)):
            page = rng.choice(PAGES).replace("{n}", str(rng.randint(1, 40)))
            events.append({
                "user": f"user-{actor:03d}",
                "page": page,
                "ns": START_NS + rng.randint(0, 120) * SECOND,
                "span_id": f"{len(events) + 1:016x}",
            })
    return events


def send(server, events: list[dict]) -> None:
    spans = [{
        "traceId": "ab" * 16,
        "spanId": event["span_id"],
        "name": "page view",
        "kind": 1,
        "startTimeUnixNano": str(event["ns"]),
        "endTimeUnixNano": str(event["ns"] + 1000),
        "attributes": text_attributes({"user.id": event["user"], "page": event["page"]}),
    } for event in events]
    resource = {"attributes": text_attributes({"service.name": "shop-web"})}
    body = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
    response = requests.post(
        f"{server.otlp_http_url}/v1/traces", data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "authorization": server.ingest_key}, timeout=30,
    )
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def loaded(module_exos):
    events = histories()
    send(module_exos, events)
    stored = module_exos.sql_value("SELECT count(*) FROM otel_traces")
    assert int(stored) == len(events)
    return module_exos, events


def post(server, path: str, body: dict) -> dict:
    response = requests.post(f"{server.http_url}{path}", json=body, auth=("admin", server.admin_password), timeout=60)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:2000]}"
    return response.json()


def clean(label: str) -> str:
    for rule in RULES:
        label = re.sub(rule["pattern"], rule["replacement"], label)
    return label


def reference_paths(events, *, start=None, end=None, depth=4, collapse=True, exclude=()):
    """Each actor's path as [(position, label)], computed from the sent spans."""
    by_actor = defaultdict(list)
    for event in events:
        if event["page"] in exclude:
            continue
        label = clean(event["page"])
        by_actor[event["user"]].append((event["ns"], event["span_id"], label))
    paths = {}
    for actor, rows in by_actor.items():
        labels = [label for _, _, label in sorted(rows)]
        if collapse:
            labels = [label for i, label in enumerate(labels) if i == 0 or labels[i - 1] != label]
        path = anchor(labels, start, end, depth)
        if path:
            paths[actor] = path
    return paths


def anchor(labels, start, end, depth):
    first = labels.index(start) if start is not None and start in labels else None
    if start is not None and first is None:
        return None
    if end is None:
        begin = first or 0
        return list(enumerate(labels[begin:begin + depth]))
    search_from = first + 1 if first is not None else 0
    last = next((i for i in range(search_from, len(labels)) if labels[i] == end), None)
    if last is None:
        return None
    if first is None:
        steps = labels[max(0, last - depth + 1):last + 1]
        return [(depth - len(steps) + i, label) for i, label in enumerate(steps)]
    if last - first >= depth:
        return None
    return list(enumerate(labels[first:last + 1]))


def reference_graph(paths):
    """(nodes {id: (actors, dropoffs)}, links {(source, target): actors})."""
    nodes, links = Counter(), Counter()
    dropoffs = Counter()
    for path in paths.values():
        for index, (position, label) in enumerate(path):
            node = f"{position}:{label}"
            nodes[node] += 1
            if index + 1 < len(path):
                following = path[index + 1]
                links[(node, f"{following[0]}:{following[1]}")] += 1
            else:
                dropoffs[node] += 1
    return {node: (count, dropoffs[node]) for node, count in nodes.items()}, dict(links)


QUESTIONS = [
    {},
    {"start": "/search"},
    {"end": "/checkout"},
    {"start": "/home", "end": "/cart", "depth": 6},
    {"collapse_repeats": False, "depth": 5},
    {"exclude": ["/home"]},
]


@pytest.mark.parametrize("question", QUESTIONS, ids=[json.dumps(q) for q in QUESTIONS])
def test_paths_match_python(loaded, question):
    server, events = loaded
    body = {
        "actor": "UserId", "time_range": RANGE, "event_name": {"attribute": "page"},
        "cleaning": RULES, "depth": question.get("depth", 4), "max_edges": 1000,
        "collapse_repeats": question.get("collapse_repeats", True),
    }
    for key in ("start", "end"):
        if key in question:
            body[key] = question[key]
    if "exclude" in question:
        body["exclude"] = [{"equals": {"property": {"attribute": "page"}, "value": page}} for page in question["exclude"]]
    answer = post(server, "/api/paths", body)
    paths = reference_paths(
        events, start=question.get("start"), end=question.get("end"), depth=body["depth"],
        collapse=body["collapse_repeats"], exclude=question.get("exclude", ()),
    )
    nodes, links = reference_graph(paths)
    assert {(link["source"], link["target"]): link["actors"] for link in answer["links"]} == links
    assert {node["id"]: (node["actors"], node["dropoffs"]) for node in answer["nodes"]} == nodes
    assert answer["actors"] == len(paths)
    assert "otel_traces" in answer["sql"]
    assert len(links) >= 5, f"too few links to test anything: {links}"


def test_drilled_actors_match_python(loaded):
    server, events = loaded
    query = {"actor": "UserId", "time_range": RANGE, "event_name": {"attribute": "page"}, "cleaning": RULES, "depth": 4}
    paths = reference_paths(events)
    on_node = sorted(actor for actor, path in paths.items() if (1, "/cart") in path)
    answer = post(server, "/api/paths/actors", {"query": query, "at": {"step": 1, "name": "/cart"}, "limit": 1000})
    assert [row["actor"] for row in answer["actors"]] == on_node
    assert answer["total"] == len(on_node) > 0
    assert answer["actors"][0]["link"].startswith("/visitor?user=")
    on_edge = sorted(
        actor for actor, path in paths.items()
        if any(step == (0, "/home") and index + 1 < len(path) and path[index + 1][1] == "/search" for index, step in enumerate(path))
    )
    answer = post(server, "/api/paths/actors", {"query": query, "at": {"step": 0, "name": "/home", "target": "/search"}, "limit": 1000})
    assert [row["actor"] for row in answer["actors"]] == on_edge


def test_trends_match_python(loaded):
    server, events = loaded
    minute = 60 * SECOND
    body = {
        "actor": "UserId", "time_range": {"from_ns": START_NS, "to_ns": START_NS + 3 * minute}, "interval": "hour",
        "series": [
            {"event": {"span_name": "page view"}},
            {"event": {"span_name": "page view"}, "measure": {"kind": "unique_actors"}},
            {"event": {"span_name": "page view"}, "measure": {"kind": "per_actor", "stat": "max"}},
        ],
    }
    answer = post(server, "/api/trends", body)
    per_actor = Counter(event["user"] for event in events)
    assert [series["values"] for series in answer["series"]] == [[len(events)], [len(per_actor)], [max(per_actor.values())]]


def test_bad_questions_get_clear_errors(loaded):
    server, _ = loaded
    cases = [
        ({"actor": "Lob", "time_range": RANGE}, "cannot identify actors"),
        ({"actor": "UserId", "time_range": RANGE, "depth": 40}, "use 2 to 10"),
        ({"actor": "UserId", "time_range": RANGE, "cleaning": [{"pattern": "(", "replacement": ""}]}, "not a valid regular expression"),
        ({"actor": "UserId", "time_range": RANGE, "cohort": "missing"}, "no saved cohort"),
        ({"actor": "UserId", "time_range": RANGE, "dept": 3}, "dept"),
    ]
    for body, message in cases:
        response = requests.post(f"{server.http_url}/api/paths", json=body, auth=("admin", server.admin_password), timeout=30)
        assert response.status_code == 400, response.text
        assert message in response.json()["error"]["message"], response.text


def test_saved_cohort_restricts_paths(loaded):
    server, events = loaded
    members = ["user-001", "user-002", "user-003"]
    response = requests.post(
        f"{server.http_url}/api/workspaces", auth=("admin", server.admin_password), timeout=30,
        json={"kind": "cohort", "name": "three users", "shared": True, "body": {"actor": "UserId", "static": members}},
    )
    assert response.status_code == 201, response.text
    cohort = response.json()["id"]
    query = {"actor": "UserId", "time_range": RANGE, "event_name": {"attribute": "page"}, "cleaning": RULES, "depth": 4, "cohort": cohort}
    answer = post(server, "/api/paths", query)
    paths = {actor: path for actor, path in reference_paths(events).items() if actor in members}
    assert answer["actors"] == len(paths) == 3
    bad = requests.post(
        f"{server.http_url}/api/workspaces", auth=("admin", server.admin_password), timeout=30,
        json={"kind": "cohort", "name": "bad", "body": {"actor": "Lob", "static": []}},
    )
    assert bad.status_code == 400 and "cannot identify actors" in bad.text
