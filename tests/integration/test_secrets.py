"""No value of a .env key the collection does not own reaches any output of site.yml.

site.yml runs on a localhost host whose .env holds the agent's secrets (tests/fixtures/env/agent.env plus canaries
in every quoting style), with -vvv and --diff, twice (a first run that rewrites the owned keys, a rerun that only
checks them). Four outputs are searched for every secret value: stdout and stderr, a JSON record of every task
result as a callback receives it (ansible-core ships no JSON stdout callback, so the test adds a small one that
writes what ansible.posix.json would print), and the fleet report (JSON and Markdown).
"""
import io
import json
import pathlib
import re
import sys
import textwrap

import pytest
from dotenv import dotenv_values

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from test_site_playbook import Fleet, host_row, mirror  # noqa: E402,F401  pylint: disable=unused-import

AGENT_ENV = ROOT / "tests" / "fixtures" / "env" / "agent.env"
CANARIES = (
    "CANARY_PLAIN=zq-canary-plain-7f3e1\n"
    "CANARY_SINGLE='zq canary single $HOME \\\\ 7f3e2'\n"
    "CANARY_DOUBLE=\"zq-canary-double \\\" # 7f3e3\"\n"
    "export CANARY_EXPORT=zq-canary-export-7f3e4 # a comment\n"
    "CANARY_MULTI=\"zq-canary-multi-7f3e5\nsecond line zq-canary-7f3e6\"\n"
    "CANARY_UNICODE=zq-canary-\u00e9t\u00e9-7f3e7\n"
)
# The keys the role writes; their values are model paths and tuning, not secrets.
OWNED = ("LOCAL_STT_MODEL_PATH", "LOCAL_LLM_MODEL_PATH", "LOCAL_TTS_MODEL_PATH", "LOCAL_LLM_CONTEXT",
         "LOCAL_LLM_MAX_TOKENS", "LOCAL_LLM_INFER_TIMEOUT_SEC", "LOCAL_LLM_GPU_LAYERS", "LOCAL_LLM_THREADS",
         "GPU_AVAILABLE")
# Values that are too plain to be told apart from other text (a user name, a host address, a display name).
NOT_SECRET = ("ASTERISK_HOST", "ASTERISK_ARI_USERNAME", "ASTERISK_APP_NAME", "SMTP_USER", "SMTP_FROM_NAME")

RECORDER = textwrap.dedent('''
    import json
    import os

    from ansible.plugins.callback import CallbackBase


    class CallbackModule(CallbackBase):
        """Every task result, as a JSON line: what a JSON stdout callback would print."""
        CALLBACK_VERSION = 2.0
        CALLBACK_TYPE = "notification"
        CALLBACK_NAME = "result_recorder"
        CALLBACK_NEEDS_ENABLED = True

        def _write(self, kind, result):
            record = {"event": kind, "task": result.task_name, "host": result.host.get_name(),
                      "result": result.result}
            with open(os.environ["VOICEAGENT_TEST_RESULTS"], "a") as handle:
                handle.write(json.dumps(record, default=repr) + "\\n")

        def v2_runner_on_ok(self, result):
            self._write("ok", result)

        def v2_runner_on_failed(self, result, ignore_errors=False):
            self._write("failed", result)

        def v2_runner_on_skipped(self, result):
            self._write("skipped", result)

        def v2_runner_item_on_ok(self, result):
            self._write("item_ok", result)

        def v2_runner_item_on_failed(self, result):
            self._write("item_failed", result)

        def v2_on_file_diff(self, result):
            self._write("diff", result)
''')


def secret_values(env_text):
    """Every value the role must not print, and the forms it could take in an output."""
    values = {}
    for key, value in dotenv_values(stream=io.StringIO(env_text)).items():
        if key in OWNED or key in NOT_SECRET or not value:
            continue
        forms = {value, json.dumps(value)[1:-1], repr(value)[1:-1]}
        # A distinctive run of the value survives any quoting or escaping an output could add.
        forms.update(run for run in re.findall(r"[A-Za-z0-9_\-]{6,}", value) if run not in COMMON_WORDS and run not in OWNED)
        values[key] = forms
    return values


COMMON_WORDS = ("service_account", "private_key_id", "second")


@pytest.fixture(scope="module")
def secrets_run(tmp_path_factory, mirror):  # noqa: F811
    base = tmp_path_factory.mktemp("secrets")
    plugins = base / "callback_plugins"
    plugins.mkdir()
    (plugins / "result_recorder.py").write_text(RECORDER)
    results = base / "results.jsonl"
    fleet = Fleet(base, mirror)
    env_text = AGENT_ENV.read_text(encoding="utf-8") + CANARIES
    (fleet.install() / ".env").write_text(env_text, encoding="utf-8")
    runs = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ANSIBLE_CALLBACK_PLUGINS", str(plugins))
        patch.setenv("ANSIBLE_CALLBACKS_ENABLED", "result_recorder")
        patch.setenv("ANSIBLE_CALLBACK_RESULT_FORMAT", "json")
        patch.setenv("VOICEAGENT_TEST_RESULTS", str(results))
        for _unused in range(2):
            runs.append(fleet.run("-vvv", "--diff"))
    reports = (fleet.reports / "voiceagent-report.json").read_text() + (fleet.reports / "voiceagent-report.md").read_text()
    return fleet, env_text, runs, results.read_text(encoding="utf-8"), reports


def test_the_runs_rewrite_the_owned_keys_and_record_every_result(secrets_run):
    fleet, env_text, runs, results, _unused = secrets_run
    for proc, report in runs:
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert host_row(report)["status"] == "ok"
    records = [json.loads(line) for line in results.splitlines()]
    tasks = {record["task"] for record in records}
    assert "Point the .env at the tier" in tasks and any("plan" in task.lower() for task in tasks)
    assert "EXEC " in runs[0][0].stdout or "ESTABLISH" in runs[0][0].stdout, runs[0][0].stdout[:3000]  # -vvv
    after = dotenv_values(fleet.install() / ".env")
    before = dotenv_values(stream=io.StringIO(env_text))
    assert after["LOCAL_LLM_MODEL_PATH"] == "/app/models/llm/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf"
    for key, value in before.items():
        if key not in OWNED:
            assert after[key] == value, key


@pytest.mark.parametrize("output", ["stdout", "stderr", "json_results", "fleet_report"])
def test_no_secret_value_reaches_an_output(secrets_run, output):
    _unused, env_text, runs, results, reports = secrets_run
    texts = {
        "stdout": "".join(proc.stdout for proc, _unused in runs),
        "stderr": "".join(proc.stderr for proc, _unused in runs),
        "json_results": results,
        "fleet_report": reports,
    }
    text = texts[output]
    assert text or output == "stderr"
    secrets = secret_values(env_text)
    assert len(secrets) >= 12 and "CANARY_MULTI" in secrets and "OPENAI_API_KEY" in secrets
    leaks = sorted("%s (%r)" % (key, form) for key, forms in secrets.items() for form in forms if form in text)
    assert leaks == [], "%s shows .env values: %s" % (output, ", ".join(leaks))


def test_the_owned_values_are_shown_so_the_search_would_find_a_value(secrets_run):
    # The check above could pass by searching the wrong text: the owned values the role writes do show.
    _unused, _unused, runs, results, _unused = secrets_run
    assert "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf" in runs[0][0].stdout
    assert "LOCAL_LLM_MODEL_PATH" in results


@pytest.mark.parametrize("dump", [json.dumps, repr, lambda value: value.encode("unicode_escape").decode()])
def test_the_search_finds_every_secret_however_it_is_escaped(dump):
    # The negative control: each secret, written the way an output could escape it, is found.
    env_text = AGENT_ENV.read_text(encoding="utf-8") + CANARIES
    values = dotenv_values(stream=io.StringIO(env_text))
    for key, forms in secret_values(env_text).items():
        text = "ok: [h1] => %s" % dump(values[key])
        assert any(form in text for form in forms), key
