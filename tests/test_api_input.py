"""POST /api/ask over real HTTP with bad input: each mistake is a 400 (or 413) naming the field, never a 500;
and one login opens the chat, the API and the presenter view."""

from __future__ import annotations

import base64
import http.client
import http.cookiejar
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import ROOT, free_port, wait_until_up, write_corpus

AUTH = ("trainer", "s3cret")
BASIC = {"Authorization": "Basic " + base64.b64encode(":".join(AUTH).encode()).decode()}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`procure-ai serve --auth` over the small corpus: (url, log path)."""
    base = tmp_path_factory.mktemp("api")
    corpus = write_corpus(base / "corpus")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCURE_AI_DATA_DIR": str(base / "data")}
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(corpus)], env=env, check=True, capture_output=True)
    port, log = free_port(), base / "serve.log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--auth", ":".join(AUTH)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/", proc, "the chat")
    yield url, log
    proc.terminate()
    proc.wait(timeout=20)


def request(url: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url + path, body, {"Content-Type": "application/json", **BASIC, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def ask(url: str, body) -> tuple[int, dict]:
    return request(url, "/api/ask", body if isinstance(body, bytes) else json.dumps(body).encode())


@pytest.mark.parametrize("body, field", [
    ({"question": "x", "history": 5}, "history"),
    ({"question": "x", "history": [[[[["who signs off?"]]]]]}, "history"),
    ({"question": "x", "history": [{"question": 1, "answer": "a"}]}, "history"),
    ({"question": "x", "doc": 5}, "doc"),
    ({"question": "x", "doc": ["guide/who.md", {"id": 1}]}, "doc"),
    ({"question": "x", "collection": True}, "collection"),
    ({"question": 5}, "question"),
])
def test_wrong_types_are_400_naming_the_field(server, body, field):
    status, answer = ask(server[0], body)
    assert status == 400 and set(answer) == {"error"} and answer["error"].startswith(f"{field}: must be "), answer


def test_deeply_nested_arrays_are_400_not_500(server):
    url, log = server
    status, answer = ask(url, b"[" * 100_000 + b"]" * 100_000)
    assert status == 400 and answer["error"].startswith("the body is nested too deeply to read")
    status, answer = ask(url, b'{"question": "x", "history": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert status == 400 and "nested too deeply" in answer["error"]
    status, answer = ask(url, b"not json")
    assert status == 400 and answer["error"] == "the body must be a JSON object with a 'question'"
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def test_a_body_over_one_megabyte_is_413(server):
    url, _ = server
    huge = json.dumps({"question": "why " * 300_000}).encode()
    status, answer = ask(url, huge)
    assert status == 413 and answer["error"] == f"the body is {len(huge):,} bytes; the limit is 1,000,000"
    # the same body streamed without a Content-Length is cut off at the limit too
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("POST", "/api/ask", body=(huge[i:i + 65536] for i in range(0, len(huge), 65536)),
                 headers={"Content-Type": "application/json", **BASIC}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413 and "over the limit of 1,000,000 bytes" in json.loads(response.read())["error"]
    conn.close()


def test_an_unknown_doc_or_collection_is_400_saying_where_the_valid_ids_are(server):
    url, _ = server
    status, answer = ask(url, {"question": "Who signs off on the vendor?", "doc": "guide/whom.md"})
    assert status == 400 and answer["error"] == (
        "doc: no document 'guide/whom.md' in the index; GET /api/documents lists the documents by collection "
        "(or run procure-ai status)")
    status, answer = ask(url, {"question": "Who signs off on the vendor?", "collection": ["Test Guide", "Our policies"]})
    assert status == 400 and answer["error"].startswith("collection: no collection 'Our policies' in the index")
    status, listed = request(url, "/api/documents")
    assert status == 200 and {"doc": "guide/who.md", "title": "Who to involve"} in listed["collections"]["Test Guide"]
    assert "corpus/glossary.csv" in [d["doc"] for d in listed["collections"]["corpus"]]
    status, answer = ask(url, {"question": "Who signs off on the vendor?", "doc": "guide/who.md", "history": None})
    assert status == 200 and answer["citations"][0]["doc_id"] == "guide/who.md"


def test_one_login_opens_the_chat_and_the_presenter_view(server):
    """Signed in on the chat's login page, the browser's session opens /present without an HTTP Basic prompt."""
    url, _ = server
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(url + "/present", timeout=30)
    assert refused.value.code == 401
    form = urllib.parse.urlencode({"username": AUTH[0], "password": "wrong"}).encode()
    with pytest.raises(urllib.error.HTTPError):
        opener.open(url + "/login", form, timeout=30)
    form = urllib.parse.urlencode({"username": AUTH[0], "password": AUTH[1]}).encode()
    assert json.loads(opener.open(url + "/login", form, timeout=30).read()) == {"success": True}
    with opener.open(url + "/present", timeout=30) as page:
        assert page.status == 200 and "No question deck loaded" in page.read().decode()
    request_ = urllib.request.Request(url + "/api/documents")
    with opener.open(request_, timeout=30) as listed:  # the API takes the same session
        assert "Test Guide" in json.loads(listed.read())["collections"]
