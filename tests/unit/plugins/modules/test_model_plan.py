"""model_plan: presence, the verified fast path, the .env check and the disk figures."""
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache
from ansible_collections.voiceagent.models.plugins.modules import model_plan

SHA = "a" * 64


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            model_plan.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def models(tmp_path):
    (tmp_path / "llm").mkdir()
    (tmp_path / "llm" / "m.gguf").write_bytes(b"GGUF" + b"\0" * 96)
    return tmp_path


def spec(models, sha256=SHA, size=100):
    return {"dest": str(models / "llm" / "m.gguf"), "format": "gguf", "size": size, "sha256": sha256}


def test_a_present_file_with_a_recorded_digest_is_verified_without_hashing(models, capsys):
    digest_cache.record(str(models / "llm" / "m.gguf"), SHA)
    result = run({"files": [spec(models)], "path": str(models)}, capsys)
    assert result["files"][0]["status"] == "present" and result["files"][0]["verified"] is True
    assert result["all_verified"] is True and result["bytes_to_download"] == 0


def test_a_present_file_without_a_recorded_digest_is_not_verified(models, capsys):
    result = run({"files": [spec(models)], "path": str(models)}, capsys)
    assert result["files"][0]["status"] == "present" and result["all_verified"] is False


def test_a_file_changed_since_its_digest_was_recorded_is_not_verified(models, capsys):
    path = models / "llm" / "m.gguf"
    digest_cache.record(str(path), SHA)
    os.utime(str(path), ns=(1, 1))
    assert run({"files": [spec(models)], "path": str(models)}, capsys)["all_verified"] is False


def test_a_missing_file_counts_its_bytes_and_a_partial_one_what_is_left(models, capsys):
    (models / "llm" / ".x.gguf.part").write_bytes(b"\0" * 30)
    files = [spec(models, size=100), {"dest": str(models / "llm" / "x.gguf"), "format": "gguf", "size": 100},
             {"dest": str(models / "stt" / "v"), "format": "vosk-zip", "size": 10}]
    result = run({"files": files, "path": str(models)}, capsys)
    assert [f["status"] for f in result["files"]] == ["present", "partial", "missing"]
    assert result["bytes_to_download"] == 70 + 10
    assert result["bytes_needed"] == 70 + 3 * 10
    assert result["enough_space"] is True


def test_env_current_only_when_every_owned_value_is_there(models, capsys):
    env = models / ".env"
    env.write_text("SECRET='x|y'\nLOCAL_LLM_THREADS=2\n")
    args = {"files": [], "path": str(models), "env_file": str(env)}
    assert run(dict(args, env={"LOCAL_LLM_THREADS": 2}), capsys)["env_current"] is True
    result = run(dict(args, env={"LOCAL_LLM_THREADS": 4}), capsys)
    assert result["env_current"] is False
    assert "x|y" not in json.dumps(result)


def test_a_symlinked_env_is_never_current_so_env_file_gets_to_refuse_it(models, capsys):
    (models / "real.env").write_text("LOCAL_LLM_THREADS=2\n")
    os.symlink(str(models / "real.env"), str(models / ".env"))
    result = run({"files": [], "path": str(models), "env_file": str(models / ".env"),
                  "env": {"LOCAL_LLM_THREADS": 2}}, capsys)
    assert result["env_current"] is False


@pytest.fixture
def install(tmp_path):
    """An install dir with models/llm in it, and a directory outside it."""
    (tmp_path / "install" / "models" / "llm").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return tmp_path


def plan_args(install, **extra):
    args = {"files": [{"dest": str(install / "install" / "models" / "llm" / "m.gguf"), "format": "gguf",
                       "size": 100, "sha256": SHA}],
            "path": str(install / "install" / "models"), "install_dir": str(install / "install")}
    args.update(extra)
    return args


def test_a_models_dir_linked_outside_the_install_dir_is_refused(install, capsys):
    os.rename(str(install / "install" / "models"), str(install / "outside" / "models"))
    os.symlink(str(install / "outside" / "models"), str(install / "install" / "models"))
    result = run(plan_args(install), capsys)
    assert result["failed"] is True
    assert "%s is a symbolic link to %s, outside %s" % (
        install / "install" / "models", install / "outside" / "models", install / "install") in result["msg"]
    assert "voiceagent_allow_outside_links" in result["msg"]


def test_a_model_subdirectory_linked_outside_is_refused(install, capsys):
    os.rmdir(str(install / "install" / "models" / "llm"))
    os.symlink(str(install / "outside"), str(install / "install" / "models" / "llm"))
    result = run(plan_args(install), capsys)
    assert result["failed"] is True and "models/llm is a symbolic link" in result["msg"]


def test_a_model_file_linked_outside_is_refused(install, capsys):
    os.symlink("/etc/passwd", str(install / "install" / "models" / "llm" / "m.gguf"))
    assert "m.gguf is a symbolic link to /etc/passwd" in run(plan_args(install), capsys)["msg"]


def test_the_explicit_option_accepts_an_outside_link(install, capsys):
    os.rmdir(str(install / "install" / "models" / "llm"))
    os.symlink(str(install / "outside"), str(install / "install" / "models" / "llm"))
    result = run(plan_args(install, allow_outside_links=True), capsys)
    assert "failed" not in result and result["files"][0]["status"] == "missing"


def test_a_link_that_stays_inside_the_install_dir_is_fine(install, capsys):
    (install / "install" / "data").mkdir()
    os.rmdir(str(install / "install" / "models" / "llm"))
    os.symlink("../data", str(install / "install" / "models" / "llm"))
    assert "failed" not in run(plan_args(install), capsys)


def test_a_models_dir_configured_elsewhere_is_judged_on_its_own(install, capsys):
    models = install / "outside" / "models"
    (models / "llm").mkdir(parents=True)
    args = plan_args(install, path=str(models))
    args["files"][0]["dest"] = str(models / "llm" / "m.gguf")
    assert "failed" not in run(args, capsys)
    os.rmdir(str(models / "llm"))
    os.symlink(str(install / "install"), str(models / "llm"))
    assert "outside %s" % models in run(args, capsys)["msg"]


def test_directories_are_current_only_with_the_agent_s_owner_group_and_mode(models, capsys):
    folder = models / "llm"
    os.chmod(folder, 0o755)
    args = {"files": [spec(models)], "path": str(models), "directories": [str(models), str(folder)],
            "directory_uid": os.getuid(), "directory_gid": os.getgid(), "directory_mode": "2775"}
    assert run(args, capsys)["directories_current"] is False
    for path in (models, folder):
        os.chmod(path, 0o2775)
    assert run(args, capsys)["directories_current"] is True
    assert run(dict(args, directory_uid=os.getuid() + 1), capsys)["directories_current"] is False
    assert run(dict(args, directories=[str(models / "missing")]), capsys)["directories_current"] is False
    assert run({"files": [spec(models)], "path": str(models)}, capsys)["directories_current"] is True


def test_a_bad_directory_mode_is_refused_naming_it(models, capsys):
    result = run({"files": [spec(models)], "path": str(models), "directories": [str(models)],
                  "directory_mode": "rwx"}, capsys)
    assert result["failed"] and "directory_mode must be an octal mode such as 2775; got 'rwx'" in result["msg"]
