"""The web app's pages over HTTP (FastAPI's test client, no browser), the token, path
safety, escaping, practice chats and the self-contained report."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from harness.cli import app as cli_app
from harness.report import build_report
from harness.store import MANIFEST, SCORECARDS, TRANSCRIPTS, RunStore
from harness.web.access import is_loopback
from harness.web.app import create_app
from harness.web.views import anger_svg, highlight
from tests.conftest import read_jsonl

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


@pytest.fixture
def results(tmp_path: Path, finished_run: Path) -> Path:
    """A results folder holding a copy of the finished 8-conversation run as `small`."""
    root = tmp_path / "results"
    root.mkdir()
    shutil.copytree(finished_run, root / "small", ignore=shutil.ignore_patterns(".lock"))
    return root


@pytest.fixture
def client(results: Path) -> TestClient:
    return TestClient(create_app(results))


def _cids(text: str) -> list[str]:
    return [
        html.unescape(m) for m in re.findall(r"/conversation\?run=[^&]+&amp;id=([^\"#]+)", text)
    ]


def test_runs_page_lists_the_run_with_scores_and_intervals(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "/run?run=small" in page.text
    assert "macros:seed-playbook" in page.text and "macros:anti-patterns" in page.text
    # each agent's score comes with a 95% interval
    assert re.search(
        r"macros:seed-playbook: <span[^>]*>\d\.\d\d</span> \[\d\.\d\d, \d\.\d\d\]", page.text
    )
    assert client.get("/?q=no-such-thing").text.count("/run?run=small") == 0
    assert client.get("/?kind=run").text.count("/run?run=small") == 1
    assert client.get("/?kind=chat").text.count("/run?run=small") == 0


def test_run_page_has_summary_matrix_and_conversations(client: TestClient) -> None:
    page = client.get("/run", params={"run": "small"})
    assert page.status_code == 200
    text = page.text
    for wanted in ("OVERALL score", "pass^2 (resolved)", "stop: ", "Δ macros:anti-patterns"):
        assert wanted in text
    assert "guideline \\ persona" in text and "deesc.name_emotion" in text
    assert len(set(_cids(text))) == 8


def test_a_matrix_cell_lists_its_conversations_worst_first(client: TestClient) -> None:
    page = client.get(
        "/run",
        params={
            "run": "small",
            "agent": "macros:anti-patterns",
            "persona": "late-gift",
            "guideline": "deesc.name_emotion",
        },
    )
    ids = list(dict.fromkeys(_cids(page.text)))
    assert len(ids) == 2
    assert all(i.startswith("late-gift__") and "anti-patterns" in i for i in ids)
    cell_link = "/run?run=small&amp;agent=macros%3Aanti-patterns&amp;persona=late-gift"
    assert cell_link in client.get("/run", params={"run": "small"}).text


def test_conversation_page_highlights_the_evidence_quotes(
    client: TestClient, finished_run: Path
) -> None:
    card = next(c for c in read_jsonl(finished_run / SCORECARDS) if "seed-playbook" in c["agent"])
    page = client.get("/conversation", params={"run": "small", "id": card["conversation_id"]})
    assert page.status_code == 200
    marked = {html.unescape(m) for m in re.findall(r"<mark [^>]*>([^<]*)</mark>", page.text)}
    quotes = {e["quote"] for r in card["results"] for e in r["evidence"]}
    # every highlighted stretch is (part of) a quote the graders cited, and quotes show whole
    assert marked and all(any(m in q for q in quotes) for m in marked)
    assert any(q in marked for q in quotes)
    assert '<svg class="anger"' in page.text and "<polyline" in page.text
    assert "hidden issue" in page.text


def test_unknown_runs_and_paths_outside_results_are_404(
    client: TestClient, results: Path, tmp_path: Path, finished_run: Path
) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(finished_run, outside, ignore=shutil.ignore_patterns(".lock"))
    (results / "link").symlink_to(outside)
    for run in ("../outside", "/etc", "small/..", "link", ".", "", "small/../small", "nope"):
        assert client.get("/run", params={"run": run}).status_code in (404, 422), run
    assert "link" not in client.get("/").text.split("<tbody>")[1]
    assert client.get("/conversation", params={"run": "small", "id": "nope"}).status_code == 404


def test_file_text_is_escaped(tmp_path: Path) -> None:
    source = tmp_path / "hostile.jsonl"
    turns = [{"role": "customer", "text": HOSTILE}, {"role": "agent", "text": "Sorry " + HOSTILE}]
    source.write_text(json.dumps({"id": "x<i>", "turns": turns}) + "\n", encoding="utf-8")
    root = tmp_path / "results"
    result = CliRunner().invoke(cli_app, ["grade", str(source), "--out", str(root / "g")])
    assert result.exit_code == 0, result.output
    client = TestClient(create_app(root))
    page = client.get("/conversation", params={"run": "g", "id": "x<i>"})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<b>bold" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "<script>alert" not in build_report([root / "g"])


def test_a_run_in_progress_refreshes_and_grows(results: Path, client: TestClient) -> None:
    run = results / "small"
    manifest = json.loads((run / MANIFEST).read_text())
    manifest["status"] = "running"
    (run / MANIFEST).write_text(json.dumps(manifest))
    lines = {n: (run / n).read_text().splitlines(keepends=True) for n in (SCORECARDS, TRANSCRIPTS)}
    for name in lines:
        (run / name).unlink()  # just started: no conversation finished yet
    assert client.get("/run", params={"run": "small"}).status_code == 200
    assert "small" in client.get("/").text
    for name, rows in lines.items():
        (run / name).write_text("".join(rows[:3]))
    page = client.get("/run", params={"run": "small"})
    assert '<meta http-equiv="refresh"' in page.text
    assert len(set(_cids(page.text))) == 3
    assert '<meta http-equiv="refresh"' in client.get("/").text
    for name, rows in lines.items():
        with (run / name).open("a") as handle:
            handle.write("".join(rows[3:]))
    assert len(set(_cids(client.get("/run", params={"run": "small"}).text))) == 8


def test_compare_page_pairs_two_runs_and_names_differences(
    results: Path, client: TestClient, tmp_path: Path
) -> None:
    from harness.runs import execute, start_run
    from tests.conftest import small_settings

    store, manifest, todo = start_run(
        small_settings(max_turns=12), results / "short", name="short", kind="run", resume=False
    )
    execute(store, manifest, todo)
    page = client.get("/compare", params=[("run", "small"), ("run", "short"), ("by", "persona")])
    assert page.status_code == 200
    assert "Δ short/macros:seed-playbook" in page.text
    assert "runs differ in max_turns" in page.text
    assert "p=" in page.text or "p&lt;0.001" in page.text
    bad = client.get("/compare", params=[("run", "small"), ("by", "nonsense")])
    assert "--by must be one or two of" in bad.text


def test_token_is_required_on_every_request(results: Path) -> None:
    guarded = TestClient(create_app(results, token="s3cret"), follow_redirects=False)
    assert guarded.get("/").status_code == 401
    assert guarded.get("/run", params={"run": "small"}).status_code == 401
    assert guarded.get("/", params={"token": "wrong"}).status_code == 401
    assert guarded.get("/", headers={"X-Toughtalk-Token": "s3cret"}).status_code == 200
    assert guarded.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    first = guarded.get("/run", params={"run": "small", "token": "s3cret"})
    assert first.status_code == 303 and first.headers["location"] == "/run?run=small"
    assert "toughtalk_token=s3cret" in first.headers["set-cookie"]
    assert "samesite=strict" in first.headers["set-cookie"].lower()
    assert guarded.get("/run", params={"run": "small"}).status_code == 200  # the cookie
    guarded.cookies.clear()
    assert guarded.post("/practise", data={"name": "x"}).status_code == 401


def test_serve_refuses_a_public_host_without_a_token(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app, ["serve", "--host", "0.0.0.0", "--results", str(tmp_path)], env={}
    )
    assert result.exit_code == 1
    assert "pass --token" in result.stderr and "TOUGHTALK_TOKEN" in result.stderr
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")


def test_cross_site_posts_are_refused(client: TestClient) -> None:
    page = client.post("/practise", data={"name": "x"}, headers={"Origin": "http://evil.test"})
    assert page.status_code == 403


def _practise(client: TestClient, **form: str) -> str:
    started = client.post("/practise", data=form, follow_redirects=False)
    assert started.status_code == 303, started.text
    return str(started.headers["location"])


def test_a_practice_chat_ends_in_a_debrief_and_a_saved_chat_run(
    client: TestClient, results: Path
) -> None:
    url = _practise(client, name="ana", persona="late-gift", difficulty="2", seed="0")
    page = client.get(url).text
    assert "Case: " in page and "you may" in page and "anger" in page
    client.post(
        url + "/reply", data={"text": "I can hear how stressful this is. Let's fix it together."}
    )
    client.post(url + "/hint")
    page = client.get(url).text
    assert "Hint: " in page and page.count('class="turn ') == 3
    client.post(url + "/rewind", data={"turn": "2"})
    assert client.get(url).text.count('class="turn ') == 1
    client.post(url + "/reply", data={"text": "Thanks, bye.", "action": "end"})
    assert "You ended the conversation." in client.get(url).text
    client.post(url + "/finish")
    page = client.get(url).text
    assert 'id="debrief"' in page and "Best moment" in page and "Keep:" in page
    saved = [p for p in results.iterdir() if "-chat-late-gift" in p.name]
    assert len(saved) == 1
    manifest = RunStore(saved[0]).read_manifest()
    assert manifest is not None and manifest.kind == "chat" and manifest.status == "finished"
    assert f"/run?run={saved[0].name}" in client.get("/?kind=chat").text
    progress = client.get("/practise").text
    assert "ana" in progress and "1 chat(s)" in progress


def test_practice_rejects_bad_choices_with_one_line(client: TestClient) -> None:
    page = client.post("/practise", data={"name": "x", "difficulty": "9"})
    assert page.status_code == 400 and "difficulty is 1 to 5" in page.text
    page = client.post("/practise", data={"name": "x", "persona": "no-such-persona"})
    assert page.status_code == 400 and "no-such-persona" in page.text
    page = client.post("/practise", data={"name": "x", "customer": "bogus"})
    assert page.status_code == 400 and "`scripted` or `model:ID`" in page.text
    assert client.get("/practise/not-a-session").status_code == 404
    url = _practise(client, name="bo")
    client.post(url + "/reply", data={"text": "   "})
    assert "a reply needs some text" in client.get(url).text
    client.post(url + "/quit")
    assert client.get(url).status_code == 404


def test_highlight_cuts_overlapping_quotes() -> None:
    segments, missing = highlight(
        "I hear you, we will fix it.",
        [("a", "met", "I hear you"), ("b", "violated", "you, we"), ("c", "met", "absent")],
    )
    assert "".join(s.text for s in segments) == "I hear you, we will fix it."
    assert [(s.text, s.verdict) for s in segments if s.marks] == [
        ("I hear ", "met"),
        ("you", "violated"),
        (", we", "violated"),
    ]
    assert missing == {"absent"}


def test_anger_svg_holds_only_numbers() -> None:
    svg = anger_svg([(1, 7.0), (3, 4.5), (5, 0.0)])
    assert svg.startswith("<svg") and svg.count("<circle") == 3
    assert "turn 3: anger 4.5" in svg
    assert anger_svg([]) == ""


def test_report_is_one_offline_file(results: Path, tmp_path: Path) -> None:
    out = tmp_path / "r" / "report.html"
    result = CliRunner().invoke(
        cli_app, ["report", str(results / "small"), str(results / "small"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert '<h2 id="compare">Compare</h2>' in text
    assert text.count('<details class="conversation"') == 16
    # no request leaves the file: no external stylesheet, script, image or font
    assert not re.search(r"<(link|img|iframe)\b", text)
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    assert "url(" not in text and "@import" not in text


def test_report_of_a_missing_run_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no such run directory" in lines[0]


def test_one_conversation_is_read_from_its_own_line(tmp_path: Path, finished_run: Path) -> None:
    from harness.models import Scorecard
    from harness.web.lookup import line_of, read_one

    path = tmp_path / SCORECARDS
    lines = (finished_run / SCORECARDS).read_text().splitlines(keepends=True)
    first = json.loads(lines[0])
    repeated = dict(first, score=0.123)
    torn = json.dumps(dict(first, score=0.999))[:-5]  # a write cut short: no newline
    path.write_text("".join(lines) + json.dumps(repeated) + "\n" + torn)
    card = read_one(path, first["conversation_id"], Scorecard)
    assert card is not None and card.score == 0.123  # the last complete line wins
    assert read_one(path, 'no"such', Scorecard) is None
    assert read_one(tmp_path / "missing.jsonl", "x", Scorecard) is None
    found = line_of(path, json.loads(lines[2])["conversation_id"])
    assert found is not None and found[0] == 3
    path.write_text(lines[0].replace('"persona":', '"persona_x":'))
    with pytest.raises(Exception, match=r"scorecards.jsonl:1: not a Scorecard"):
        read_one(path, first["conversation_id"], Scorecard)


def test_serve_reads_every_run_once_at_start(results: Path) -> None:
    app = create_app(results, warm=True)
    with TestClient(app) as started:
        assert app.state.warmed.wait(timeout=60)
        assert started.get("/run", params={"run": "small"}).status_code == 200


def test_an_unreadable_run_is_named_not_fatal(results: Path, client: TestClient) -> None:
    broken = results / "broken"
    broken.mkdir()
    (broken / MANIFEST).write_text("{not json", encoding="utf-8")
    page = client.get("/")
    assert page.status_code == 200
    assert "broken/run.json" in page.text and "/run?run=small" in page.text
    page = client.get("/run", params={"run": "broken"})
    assert page.status_code == 422 and "not valid JSON" in page.text


def test_a_practice_chat_can_be_transferred_to_a_manager(client: TestClient) -> None:
    url = _practise(client, name="cy", persona="manager-now")
    client.post(
        url + "/reply", data={"text": "I'll bring my manager in now.", "action": "transfer"}
    )
    page = client.get(url).text
    assert "The conversation went to a manager." in page
    client.post(url + "/reply", data={"text": "one more"})
    assert "the conversation is over" in client.get(url).text
    client.post(url + "/finish")
    assert "ended: escalated" in client.get(url).text
